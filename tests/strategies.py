"""Shared Hypothesis strategies: names, colours, pipelines and command sequences.

Steps are small frozen values with a valid-Python ``repr`` and an ``apply``
method, so a failing example prints a program that can be pasted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from hypothesis import strategies as st

from pipekit import (
    KOMMO_PALETTE,
    MAX_NAME_LENGTH,
    Color,
    Pipeline,
    RuleViolation,
    Stage,
    StageKind,
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
from pipekit.names import name_key

__all__ = [
    "Step",
    "color_texts",
    "colors",
    "hand_built_pipelines",
    "names",
    "pipelines",
    "raw_names",
    "steps",
]

# Characters a valid name may hold: everything but Cc, Zl, Zp and lone surrogates.
_NAME_CHARACTERS = st.characters(exclude_categories=("Cc", "Zl", "Zp", "Cs"))


def names(max_size: int = 30) -> st.SearchStrategy[str]:
    """Valid names (R7), already stripped; now and then one of the longest allowed."""
    short = st.text(_NAME_CHARACTERS, min_size=1, max_size=max_size)
    longest = st.text(_NAME_CHARACTERS, min_size=MAX_NAME_LENGTH - 5, max_size=MAX_NAME_LENGTH)
    return st.one_of(short, short, short, longest).map(str.strip).filter(bool)


def raw_names() -> st.SearchStrategy[str]:
    """Any text a user might type as a name: valid, padded, empty, too long or with controls."""
    return st.one_of(
        names(),
        names().map(lambda name: f"  {name}\t"),
        st.text(max_size=8),
        st.text(min_size=MAX_NAME_LENGTH + 1, max_size=MAX_NAME_LENGTH + 3).map(
            lambda text: "x" * (MAX_NAME_LENGTH + 1) + text
        ),
        st.sampled_from(["", "  ", "a\nb", "a\x00b", "a\u2028b", "DEMO", "demo ", "Closed - WON"]),
    )


def colors() -> st.SearchStrategy[Color]:
    """Colours, from the palette half of the time."""
    return st.one_of(
        st.sampled_from(KOMMO_PALETTE),
        st.integers(0, 0xFFFFFF).map(lambda value: Color(f"#{value:06x}")),
    )


def color_texts() -> st.SearchStrategy[str]:
    """Colour strings in every accepted spelling: ``#rgb`` or ``#rrggbb``, any case."""
    digits = "0123456789abcdefABCDEF"
    return st.one_of(
        st.text(digits, min_size=3, max_size=3),
        st.text(digits, min_size=6, max_size=6),
    ).map(lambda text: "#" + text)


@st.composite
def hand_built_pipelines(draw: st.DrawFn, max_open: int = 12) -> Pipeline:
    """Valid pipelines built directly through the public constructor."""
    incoming = draw(st.booleans())
    count = draw(st.integers(1, max_open)) + 2 + incoming
    stage_names = draw(st.lists(names(), min_size=count, max_size=count, unique_by=name_key))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count, unique=True))
    kinds = [StageKind.OPEN] * count
    if incoming:
        kinds[0] = StageKind.INCOMING
    kinds[-2:] = [StageKind.WON, StageKind.LOST]
    stages = tuple(
        Stage(stage_id, name, draw(colors()), kind)
        for stage_id, name, kind in zip(ids, stage_names, kinds, strict=True)
    )
    next_stage_id = max(ids) + 1 + draw(st.integers(0, 5))
    return Pipeline(
        id=draw(st.integers(1, 50)),
        name=draw(names()),
        stages=stages,
        next_stage_id=next_stage_id,
        archived=draw(st.booleans()),
    )


# -- command steps ---------------------------------------------------------------

StageRef: TypeAlias = int
"""A stage to act on: ``n >= 0`` is the stage at index ``n % len(stages)``, a
negative ``n`` is the raw id ``-n`` (usually unknown), so that most steps hit a
real stage and some do not."""


def _resolve(pipeline: Pipeline, ref: StageRef) -> int:
    if ref < 0:
        return -ref
    return pipeline.stages[ref % len(pipeline.stages)].id


@dataclass(frozen=True)
class AddStage:
    name: str
    position: int | None = None
    color: str | None = None
    stage_id: int | None = None

    def apply(self, pipeline: Pipeline) -> Pipeline:
        return add_stage(
            pipeline, self.name, position=self.position, color=self.color, stage_id=self.stage_id
        )


@dataclass(frozen=True)
class RenameStage:
    stage: StageRef
    name: str

    def apply(self, pipeline: Pipeline) -> Pipeline:
        return rename_stage(pipeline, _resolve(pipeline, self.stage), self.name)


@dataclass(frozen=True)
class RecolorStage:
    stage: StageRef
    color: str

    def apply(self, pipeline: Pipeline) -> Pipeline:
        return recolor_stage(pipeline, _resolve(pipeline, self.stage), self.color)


@dataclass(frozen=True)
class MoveStage:
    stage: StageRef
    position: int

    def apply(self, pipeline: Pipeline) -> Pipeline:
        return move_stage(pipeline, _resolve(pipeline, self.stage), self.position)


@dataclass(frozen=True)
class DeleteStage:
    stage: StageRef

    def apply(self, pipeline: Pipeline) -> Pipeline:
        return delete_stage(pipeline, _resolve(pipeline, self.stage))


@dataclass(frozen=True)
class RenameTerminal:
    outcome: StageKind
    name: str

    def apply(self, pipeline: Pipeline) -> Pipeline:
        return rename_terminal(pipeline, self.outcome, self.name)


@dataclass(frozen=True)
class EnableIncoming:
    name: str = "Incoming leads"
    color: str | None = None

    def apply(self, pipeline: Pipeline) -> Pipeline:
        return enable_incoming(pipeline, name=self.name, color=self.color)


@dataclass(frozen=True)
class DisableIncoming:
    def apply(self, pipeline: Pipeline) -> Pipeline:
        return disable_incoming(pipeline)


Step: TypeAlias = (
    AddStage
    | RenameStage
    | RecolorStage
    | MoveStage
    | DeleteStage
    | RenameTerminal
    | EnableIncoming
    | DisableIncoming
)

_refs = st.one_of(st.integers(0, 200), st.integers(-400, -1))
_positions = st.integers(-1, 12)
_maybe_colors = st.none() | color_texts() | st.just("not a colour")
_maybe_ids = st.none() | st.none() | st.integers(-1, 400)


def steps() -> st.SearchStrategy[Step]:
    """One command, valid or not, against whatever pipeline it meets."""
    return st.one_of(
        st.builds(AddStage, raw_names(), st.none() | _positions, _maybe_colors, _maybe_ids),
        st.builds(RenameStage, _refs, raw_names()),
        st.builds(RecolorStage, _refs, color_texts() | st.just("#12")),
        st.builds(MoveStage, _refs, _positions),
        st.builds(DeleteStage, _refs),
        st.builds(RenameTerminal, st.sampled_from([StageKind.WON, StageKind.LOST]), raw_names()),
        st.builds(EnableIncoming, raw_names(), _maybe_colors),
        st.just(DisableIncoming()),
    )


@st.composite
def pipelines(draw: st.DrawFn) -> Pipeline:
    """Valid pipelines: hand-built, or grown from the default one by random commands."""
    if draw(st.booleans()):
        return draw(hand_built_pipelines())
    pipeline = default_pipeline(incoming=draw(st.booleans()))
    for step in draw(st.lists(steps(), max_size=25)):
        try:
            pipeline = step.apply(pipeline)
        except RuleViolation:  # the step did not fit this pipeline
            continue
    return pipeline
