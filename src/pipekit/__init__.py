"""pipekit: the rules of a sales pipeline, as immutable values and pure commands.

>>> import pipekit
>>> pipeline = pipekit.default_pipeline("Sales")
>>> pipeline = pipekit.add_stage(pipeline, "Demo", position=1)
>>> [stage.name for stage in pipeline.open_stages]
['Initial Contact', 'Demo', 'Offer Made', 'Negotiation']
"""

from pipekit.color import KOMMO_PALETTE, Color
from pipekit.editing import (
    add_stage,
    default_pipeline,
    delete_stage,
    disable_incoming,
    enable_incoming,
    move_stage,
    recolor_stage,
    rename_stage,
    rename_terminal,
)
from pipekit.errors import (
    DuplicateName,
    DuplicateStageId,
    InvalidColor,
    InvalidName,
    InvalidPipeline,
    InvalidStageId,
    LastOpenStage,
    PipekitError,
    PositionOutOfRange,
    RuleViolation,
    StageLimitReached,
    StageLocked,
    UnknownStage,
)
from pipekit.names import MAX_NAME_LENGTH
from pipekit.pipeline import MAX_STAGES, Pipeline
from pipekit.stage import Stage, StageKind

__all__ = [
    "KOMMO_PALETTE",
    "MAX_NAME_LENGTH",
    "MAX_STAGES",
    "Color",
    "DuplicateName",
    "DuplicateStageId",
    "InvalidColor",
    "InvalidName",
    "InvalidPipeline",
    "InvalidStageId",
    "LastOpenStage",
    "PipekitError",
    "Pipeline",
    "PositionOutOfRange",
    "RuleViolation",
    "Stage",
    "StageKind",
    "StageLimitReached",
    "StageLocked",
    "UnknownStage",
    "add_stage",
    "default_pipeline",
    "delete_stage",
    "disable_incoming",
    "enable_incoming",
    "move_stage",
    "recolor_stage",
    "rename_stage",
    "rename_terminal",
]
