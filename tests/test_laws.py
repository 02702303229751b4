"""Laws the stage commands obey, for any pipeline and any sequence of commands."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipekit import (
    KOMMO_PALETTE,
    MAX_NAME_LENGTH,
    MAX_STAGES,
    Color,
    Pipeline,
    RuleViolation,
    StageKind,
    add_stage,
    default_pipeline,
    delete_stage,
    disable_incoming,
    enable_incoming,
    move_stage,
    recolor_stage,
    rename_stage,
)
from pipekit.pipeline import palette_uses
from tests.profiles import COSTLY
from tests.strategies import Step, color_texts, colors, names, pipelines, raw_names, steps


def assert_invariants(pipeline: Pipeline) -> None:
    """Check R1, R6, R7 and R9 as plainly as they are written, and the private caches."""
    kinds = [stage.kind for stage in pipeline.stages]
    start = 1 if kinds[0] is StageKind.INCOMING else 0
    assert kinds[-2:] == [StageKind.WON, StageKind.LOST]
    assert len(kinds) - start - 2 >= 1
    assert all(kind is StageKind.OPEN for kind in kinds[start:-2])
    assert len(pipeline.stages) <= MAX_STAGES
    for name in [pipeline.name, *(stage.name for stage in pipeline.stages)]:
        assert name == name.strip()
        assert 1 <= len(name) <= MAX_NAME_LENGTH
        assert not any(unicodedata.category(c) in {"Cc", "Zl", "Zp"} for c in name)
    keys = [unicodedata.normalize("NFKC", stage.name).casefold() for stage in pipeline.stages]
    assert len(set(keys)) == len(keys)
    ids = [stage.id for stage in pipeline.stages]
    assert len(set(ids)) == len(ids)
    assert all(stage_id >= 1 for stage_id in ids)
    assert pipeline.next_stage_id > max(ids)
    # What the commands' fast path carries must be what the constructor computes.
    assert pipeline._ids == tuple(ids)
    assert pipeline._keys == tuple(keys)
    assert pipeline._uses == palette_uses(pipeline.stages)
    rebuilt = Pipeline(
        id=pipeline.id,
        name=pipeline.name,
        stages=pipeline.stages,
        next_stage_id=pipeline.next_stage_id,
        archived=pipeline.archived,
    )
    assert rebuilt == pipeline


def snapshot(pipeline: Pipeline) -> tuple[object, ...]:
    return (
        pipeline.id,
        pipeline.name,
        pipeline.stages,
        pipeline.next_stage_id,
        pipeline.archived,
        pipeline._ids,
        pipeline._keys,
        pipeline._uses,
    )


class TestAnySequence:
    @COSTLY
    @given(pipelines(), st.lists(steps(), max_size=30))
    def test_every_invariant_holds_after_every_step(
        self, pipeline: Pipeline, sequence: list[Step]
    ) -> None:
        assert_invariants(pipeline)
        for step in sequence:
            before = snapshot(pipeline)
            try:
                result = step.apply(pipeline)
            except RuleViolation:
                assert snapshot(pipeline) == before
                continue
            assert snapshot(pipeline) == before
            assert_invariants(result)
            pipeline = result

    @COSTLY
    @given(pipelines(), st.lists(steps(), max_size=30))
    def test_ids_from_the_counter_are_never_reused(
        self, pipeline: Pipeline, sequence: list[Step]
    ) -> None:
        held = {stage.id for stage in pipeline.stages}
        for step in sequence:
            try:
                result = step.apply(pipeline)
            except RuleViolation:
                continue
            new_ids = {stage.id for stage in result.stages} - {s.id for s in pipeline.stages}
            if getattr(step, "stage_id", None) is None:
                assert not new_ids & held
            held |= new_ids
            assert result.next_stage_id > max(held)
            assert result.next_stage_id >= pipeline.next_stage_id
            pipeline = result


def open_ids(pipeline: Pipeline) -> list[int]:
    return [stage.id for stage in pipeline.open_stages]


class TestMove:
    @COSTLY
    @given(pipelines(), st.data())
    def test_move_then_move_back_is_identity(self, pipeline: Pipeline, data: st.DataObject) -> None:
        count = len(pipeline.open_stages)
        origin = data.draw(st.integers(0, count - 1))
        target = data.draw(st.integers(0, count - 1))
        stage_id = pipeline.open_stages[origin].id
        moved = move_stage(pipeline, stage_id, target)
        assert open_ids(moved).index(stage_id) == target
        assert move_stage(moved, stage_id, origin) == pipeline

    @COSTLY
    @given(pipelines(), st.data())
    def test_move_keeps_the_other_stages_in_order(
        self, pipeline: Pipeline, data: st.DataObject
    ) -> None:
        count = len(pipeline.open_stages)
        stage_id = pipeline.open_stages[data.draw(st.integers(0, count - 1))].id
        moved = move_stage(pipeline, stage_id, data.draw(st.integers(0, count - 1)))
        others = [i for i in open_ids(pipeline) if i != stage_id]
        assert [i for i in open_ids(moved) if i != stage_id] == others
        assert (moved.incoming, moved.won, moved.lost) == (
            pipeline.incoming,
            pipeline.won,
            pipeline.lost,
        )

    @COSTLY
    @given(pipelines(), st.data())
    def test_move_to_its_own_position_changes_nothing(
        self, pipeline: Pipeline, data: st.DataObject
    ) -> None:
        position = data.draw(st.integers(0, len(pipeline.open_stages) - 1))
        stage = pipeline.open_stages[position]
        assert move_stage(pipeline, stage.id, position) == pipeline


class TestRename:
    @COSTLY
    @given(pipelines(), st.data(), raw_names())
    def test_rename_then_rename_back_is_identity(
        self, pipeline: Pipeline, data: st.DataObject, name: str
    ) -> None:
        stage = data.draw(st.sampled_from(pipeline.stages[pipeline.first_open_index :]))
        try:
            renamed = rename_stage(pipeline, stage.id, name)
        except RuleViolation:
            return
        assert renamed.stage(stage.id).name == name.strip()
        assert rename_stage(renamed, stage.id, stage.name) == pipeline

    @COSTLY
    @given(pipelines(), st.data())
    def test_rename_to_its_own_name_changes_nothing(
        self, pipeline: Pipeline, data: st.DataObject
    ) -> None:
        stage = data.draw(st.sampled_from(pipeline.stages[pipeline.first_open_index :]))
        assert rename_stage(pipeline, stage.id, f" {stage.name} ") == pipeline

    @COSTLY
    @given(pipelines(), st.data(), names())
    def test_a_clashing_name_is_refused(
        self, pipeline: Pipeline, data: st.DataObject, name: str
    ) -> None:
        stage, other = data.draw(st.permutations(pipeline.stages).map(lambda s: s[:2]))
        if stage.kind is StageKind.INCOMING:
            return
        with pytest.raises(RuleViolation, match="clashes with stage"):
            rename_stage(pipeline, stage.id, f" {other.name} ")


class TestRecolor:
    @COSTLY
    @given(pipelines(), st.data(), color_texts())
    def test_recolor_then_recolor_back_is_identity(
        self, pipeline: Pipeline, data: st.DataObject, color: str
    ) -> None:
        stage = data.draw(st.sampled_from(pipeline.open_stages))
        recolored = recolor_stage(pipeline, stage.id, color)
        assert recolored.stage(stage.id).color == Color(color)
        assert recolor_stage(recolored, stage.id, stage.color) == pipeline


def least_used_palette_color(pipeline: Pipeline) -> Color:
    """R8 as written: the first unused palette colour, else the least used, first in order."""
    counts = dict.fromkeys(KOMMO_PALETTE, 0)
    for stage in pipeline.stages:
        if stage.color in counts:
            counts[stage.color] += 1
    unused = [color for color in KOMMO_PALETTE if counts[color] == 0]
    if unused:
        return unused[0]
    fewest = min(counts.values())
    return next(color for color in KOMMO_PALETTE if counts[color] == fewest)


class TestAddAndDelete:
    @COSTLY
    @given(pipelines(), names(), st.data())
    def test_add_then_delete_restores_the_stages(
        self, pipeline: Pipeline, name: str, data: st.DataObject
    ) -> None:
        position = data.draw(st.integers(0, len(pipeline.open_stages)))
        try:
            added = add_stage(pipeline, name, position=position)
        except RuleViolation:
            return
        new = added.open_stages[position]
        assert new.name == name
        assert new.id == pipeline.next_stage_id
        assert delete_stage(added, new.id).stages == pipeline.stages

    @COSTLY
    @given(pipelines(), names())
    def test_a_stage_added_without_colour_takes_the_least_used_palette_colour(
        self, pipeline: Pipeline, name: str
    ) -> None:
        try:
            added = add_stage(pipeline, name)
        except RuleViolation:
            return
        assert added.open_stages[-1].color == least_used_palette_color(pipeline)

    @COSTLY
    @given(pipelines(), st.data())
    def test_delete_never_touches_system_stages(
        self, pipeline: Pipeline, data: st.DataObject
    ) -> None:
        stage = data.draw(st.sampled_from(pipeline.stages))
        try:
            deleted = delete_stage(pipeline, stage.id)
        except RuleViolation:
            assert stage.kind.is_system or len(pipeline.open_stages) == 1
            return
        assert (deleted.incoming, deleted.won, deleted.lost) == (
            pipeline.incoming,
            pipeline.won,
            pipeline.lost,
        )
        assert open_ids(deleted) == [i for i in open_ids(pipeline) if i != stage.id]


class TestIncoming:
    @COSTLY
    @given(pipelines())
    def test_enable_and_disable_are_idempotent(self, pipeline: Pipeline) -> None:
        try:
            enabled = enable_incoming(pipeline)
        except RuleViolation:
            return
        assert enable_incoming(enabled) is enabled
        disabled = disable_incoming(enabled)
        assert disable_incoming(disabled) is disabled
        assert disabled.incoming is None
        assert disabled.stages == tuple(
            s for s in pipeline.stages if s.kind is not StageKind.INCOMING
        )

    @COSTLY
    @given(pipelines(), names(), colors())
    def test_enable_puts_the_incoming_stage_first(
        self, pipeline: Pipeline, name: str, color: Color
    ) -> None:
        pipeline = disable_incoming(pipeline)
        try:
            enabled = enable_incoming(pipeline, name=name, color=color)
        except RuleViolation:
            return
        assert enabled.incoming == enabled.stages[0]
        assert (enabled.stages[0].name, enabled.stages[0].color) == (name, color)
        assert enabled.stages[1:] == pipeline.stages


class TestConstructor:
    @COSTLY
    @given(pipelines())
    def test_every_generated_pipeline_rebuilds_equal(self, pipeline: Pipeline) -> None:
        assert_invariants(pipeline)

    def test_default_pipeline_holds_the_invariants(self) -> None:
        assert_invariants(default_pipeline())
        assert_invariants(default_pipeline(incoming=True))
