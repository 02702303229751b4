"""The real commands, run side by side with a naive model of a pipeline.

The model is a plain list of dicts, changed in place by rules written as plainly
as the issue states them. After every step both must agree on the stage order,
names, colours, kinds and the id counter, or raise the same error.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable
from typing import TypedDict

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from pipekit import (
    KOMMO_PALETTE,
    DuplicateName,
    DuplicateStageId,
    InvalidColor,
    InvalidName,
    InvalidStageId,
    LastOpenStage,
    Pipeline,
    PositionOutOfRange,
    RuleViolation,
    StageKind,
    StageLimitReached,
    StageLocked,
    UnknownStage,
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
from tests.profiles import machine_runs
from tests.strategies import color_texts, raw_names


class NaiveStage(TypedDict):
    id: int
    name: str
    color: str
    kind: str


class Refused(Exception):
    def __init__(self, error: type[RuleViolation]) -> None:
        self.error = error


PALETTE = [color.hex for color in KOMMO_PALETTE]


class NaivePipeline:
    """A pipeline as a list of dicts, with every rule checked in the documented order."""

    def __init__(self, incoming: bool) -> None:
        self.stages: list[NaiveStage] = [
            {"id": 144, "name": "Initial Contact", "color": "#fffeb2", "kind": "open"},
            {"id": 145, "name": "Offer Made", "color": "#fffd7f", "kind": "open"},
            {"id": 146, "name": "Negotiation", "color": "#fff000", "kind": "open"},
            {"id": 142, "name": "Closed - won", "color": "#ccff66", "kind": "won"},
            {"id": 143, "name": "Closed - lost", "color": "#d5d8db", "kind": "lost"},
        ]
        self.next_id = 147
        if incoming:
            self.enable("Incoming leads", None)

    # -- the rules, plainly ---------------------------------------------------

    @staticmethod
    def clean(name: str) -> str:
        name = name.strip()
        if not name or len(name) > 255:
            raise Refused(InvalidName)
        if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in name):
            raise Refused(InvalidName)
        return name

    @staticmethod
    def key(name: str) -> str:
        return unicodedata.normalize("NFKC", name).casefold()

    @staticmethod
    def color(text: str) -> str:
        digits = text[1:].lower()
        if not text.startswith("#") or len(digits) not in (3, 6):
            raise Refused(InvalidColor)
        if any(c not in "0123456789abcdef" for c in digits):
            raise Refused(InvalidColor)
        return "#" + "".join(c * 2 for c in digits) if len(digits) == 3 else "#" + digits

    def check_unique(self, name: str, except_id: int | None = None) -> None:
        for stage in self.stages:
            if stage["id"] != except_id and self.key(stage["name"]) == self.key(name):
                raise Refused(DuplicateName)

    def open_indexes(self) -> list[int]:
        return [i for i, stage in enumerate(self.stages) if stage["kind"] == "open"]

    def find(self, stage_id: int) -> NaiveStage:
        for stage in self.stages:
            if stage["id"] == stage_id:
                return stage
        raise Refused(UnknownStage)

    def new_id(self, stage_id: int | None) -> int:
        if stage_id is None:
            stage_id = self.next_id
        elif stage_id < 1:
            raise Refused(InvalidStageId)
        elif any(stage["id"] == stage_id for stage in self.stages):
            raise Refused(DuplicateStageId)
        self.next_id = max(self.next_id, stage_id + 1)
        return stage_id

    def default_color(self) -> str:
        counts = [sum(stage["color"] == color for stage in self.stages) for color in PALETTE]
        return PALETTE[counts.index(min(counts))]

    # -- the commands -----------------------------------------------------------

    def add(self, name: str, position: int | None, color: str | None, stage_id: int | None) -> None:
        if len(self.stages) >= 100:
            raise Refused(StageLimitReached)
        name = self.clean(name)
        self.check_unique(name)
        opens = self.open_indexes()
        if position is None:
            position = len(opens)
        if not 0 <= position <= len(opens):
            raise Refused(PositionOutOfRange)
        chosen = self.default_color() if color is None else self.color(color)
        new: NaiveStage = {
            "id": self.new_id(stage_id),
            "name": name,
            "color": chosen,
            "kind": "open",
        }
        self.stages.insert(opens[0] + position, new)

    def rename(self, stage_id: int, name: str) -> None:
        stage = self.find(stage_id)
        if stage["kind"] == "incoming":
            raise Refused(StageLocked)
        name = self.clean(name)
        self.check_unique(name, except_id=stage_id)
        stage["name"] = name

    def recolor(self, stage_id: int, color: str) -> None:
        stage = self.find(stage_id)
        if stage["kind"] != "open":
            raise Refused(StageLocked)
        stage["color"] = self.color(color)

    def move(self, stage_id: int, position: int) -> None:
        stage = self.find(stage_id)
        if stage["kind"] != "open":
            raise Refused(StageLocked)
        opens = self.open_indexes()
        if not 0 <= position < len(opens):
            raise Refused(PositionOutOfRange)
        self.stages.remove(stage)
        self.stages.insert(opens[0] + position, stage)

    def delete(self, stage_id: int) -> None:
        stage = self.find(stage_id)
        if stage["kind"] != "open":
            raise Refused(StageLocked)
        if len(self.open_indexes()) == 1:
            raise Refused(LastOpenStage)
        self.stages.remove(stage)

    def enable(self, name: str, color: str | None) -> None:
        if self.stages[0]["kind"] == "incoming":
            return
        if len(self.stages) >= 100:
            raise Refused(StageLimitReached)
        name = self.clean(name)
        self.check_unique(name)
        chosen = "#c1c1c1" if color is None else self.color(color)
        new: NaiveStage = {
            "id": self.new_id(None),
            "name": name,
            "color": chosen,
            "kind": "incoming",
        }
        self.stages.insert(0, new)

    def disable(self) -> None:
        if self.stages[0]["kind"] == "incoming":
            del self.stages[0]


class PipelineMachine(RuleBasedStateMachine):
    stages: Bundle[int] = Bundle("stages")
    """The ids of the stages made so far, some deleted since."""

    def __init__(self) -> None:
        super().__init__()
        self.pipeline = default_pipeline()
        self.model = NaivePipeline(incoming=False)

    @initialize(target=stages)
    def the_default_stages(self) -> MultipleResults[int]:
        return multiple(*(stage.id for stage in self.pipeline.stages))

    def run(
        self, real: Callable[[Pipeline], Pipeline], naive: Callable[[NaivePipeline], None]
    ) -> MultipleResults[int]:
        """Run both; return the ids of the stages the command made, if it was accepted."""
        model = copy.deepcopy(self.model)
        try:
            naive(model)
        except Refused as refusal:
            before = self.pipeline
            with pytest.raises(refusal.error):
                real(self.pipeline)
            assert self.pipeline == before
            return multiple()
        known = {stage.id for stage in self.pipeline.stages}
        self.pipeline = real(self.pipeline)
        self.model = model
        return multiple(*(stage.id for stage in self.pipeline.stages if stage.id not in known))

    @rule(
        target=stages,
        name=raw_names(),
        position=st.none() | st.integers(-1, 12),
        color=st.none() | color_texts() | st.just("#1234"),
        stage_id=st.none() | st.integers(-1, 300),
    )
    def add(
        self, name: str, position: int | None, color: str | None, stage_id: int | None
    ) -> MultipleResults[int]:
        return self.add_one(name, position, color, stage_id)

    def add_one(
        self, name: str, position: int | None, color: str | None, stage_id: int | None
    ) -> MultipleResults[int]:
        return self.run(
            lambda p: add_stage(p, name, position=position, color=color, stage_id=stage_id),
            lambda m: m.add(name, position, color, stage_id),
        )

    @rule(target=stages, count=st.integers(1, 40))
    def add_many(self, count: int) -> MultipleResults[int]:
        # Reaching the 100-stage limit needs many adds in a row.
        made: list[int] = []
        for number in range(count):
            name = f"Bulk {len(self.model.stages)}-{number}"
            made += self.add_one(name, None, None, None).values
        return multiple(*made)

    # A stage made so far (maybe deleted since), or any id at all.
    some_stage_ids = stages | st.integers(1, 300)

    @rule(stage_id=some_stage_ids, name=raw_names())
    def rename(self, stage_id: int, name: str) -> None:
        self.run(lambda p: rename_stage(p, stage_id, name), lambda m: m.rename(stage_id, name))

    @rule(outcome=st.sampled_from([StageKind.WON, StageKind.LOST]), name=raw_names())
    def rename_terminal(self, outcome: StageKind, name: str) -> None:
        index = -2 if outcome is StageKind.WON else -1
        stage_id = self.model.stages[index]["id"]
        self.run(lambda p: rename_terminal(p, outcome, name), lambda m: m.rename(stage_id, name))

    @rule(stage_id=some_stage_ids, color=color_texts() | st.just("red"))
    def recolor(self, stage_id: int, color: str) -> None:
        self.run(lambda p: recolor_stage(p, stage_id, color), lambda m: m.recolor(stage_id, color))

    @rule(stage_id=some_stage_ids, position=st.integers(-1, 12))
    def move(self, stage_id: int, position: int) -> None:
        self.run(lambda p: move_stage(p, stage_id, position), lambda m: m.move(stage_id, position))

    @rule(stage_id=some_stage_ids)
    def delete(self, stage_id: int) -> None:
        self.run(lambda p: delete_stage(p, stage_id), lambda m: m.delete(stage_id))

    @rule(
        target=stages,
        name=st.just("Incoming leads") | raw_names(),
        color=st.none() | color_texts(),
    )
    def enable_incoming(self, name: str, color: str | None) -> MultipleResults[int]:
        return self.run(
            lambda p: enable_incoming(p, name=name, color=color),
            lambda m: m.enable(name, color),
        )

    @rule()
    def disable_incoming(self) -> None:
        self.run(disable_incoming, NaivePipeline.disable)

    @invariant()
    def agrees_with_the_model(self) -> None:
        real = [
            {"id": s.id, "name": s.name, "color": s.color.hex, "kind": s.kind.value}
            for s in self.pipeline.stages
        ]
        assert real == self.model.stages
        assert self.pipeline.next_stage_id == self.model.next_id


TestPipelineMachine = PipelineMachine.TestCase
TestPipelineMachine.settings = machine_runs(5, 200, 2000)
