"""The Workspace: built valid or refused naming the rule (W1-W7), and its queries."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import types
from collections.abc import Callable, Mapping, MutableMapping
from datetime import datetime
from operator import attrgetter
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipekit import (
    MAX_PIPELINES,
    AddLossReason,
    Automation,
    Color,
    CreateLead,
    CreatePipeline,
    DeleteLead,
    HostAction,
    InvalidWorkspace,
    Lead,
    LeadMoved,
    LoseLead,
    LossReason,
    MoveLead,
    Pipeline,
    RuleViolation,
    Stage,
    StageKind,
    StageTotal,
    Trigger,
    UnknownAutomation,
    UnknownLead,
    UnknownLossReason,
    UnknownPipeline,
    UnknownStage,
    WinLead,
    Workspace,
    apply,
    default_pipeline,
    new_workspace,
)
from pipekit._containers import PersistentIndex
from pipekit.leads import Fold
from tests.profiles import EXPENSIVE, MODERATE
from tests.strategies import pipelines as grown_pipelines
from tests.test_leads import DictLeads

AT = datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
CLOSED = datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)
NAMESPACE = {
    "Workspace": Workspace,
    "Pipeline": Pipeline,
    "Stage": Stage,
    "StageKind": StageKind,
    "Color": Color,
    "Lead": Lead,
    "LossReason": LossReason,
    "datetime": dt,
}

# The default pipeline (id 1) has open stages 144, 145, 146, won 142 and lost 143;
# "Sales" (id 2) has the same, plus its incoming leads stage 147 first.
MAIN = default_pipeline()
SALES = default_pipeline("Sales", pipeline_id=2, incoming=True)
TOO_EXPENSIVE = LossReason(1, "Too expensive")
NO_BUDGET = LossReason(2, "No budget")


def lead(
    lead_id: int,
    pipeline_id: int = 1,
    stage_id: int = 144,
    *,
    price: int = 0,
    closed_at: datetime | None = None,
    loss_reason_id: int | None = None,
    name: str = "ACME",
) -> Lead:
    return Lead(
        id=lead_id,
        name=name,
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        price=price,
        created_at=AT,
        stage_entered_at=AT,
        closed_at=closed_at,
        loss_reason_id=loss_reason_id,
    )


# A board with leads in every kind of stage, given out of id order.
BOARD_LEADS = (
    lead(33, 1, 144, price=100),  # before 3 and 7 in the trie: 33 & 31 == 1
    lead(3, 1, 144, price=250),
    lead(7, 1, 144, price=0),
    lead(4, 1, 145, price=40),
    lead(5, 1, 142, price=1_000, closed_at=CLOSED),
    lead(6, 1, 143, price=7, closed_at=CLOSED, loss_reason_id=1),
    lead(8, 1, 143, price=3, closed_at=CLOSED),
    lead(20, 2, 147, price=50),
    lead(21, 2, 144, price=5),
)


def build(**changes: Any) -> Workspace:
    """A workspace with two pipelines and two loss reasons, with *changes* to its fields."""
    fields: dict[str, Any] = {
        "pipelines": (MAIN, SALES),
        "main_pipeline_id": 1,
        "leads": (),
        "loss_reasons": (TOO_EXPENSIVE, NO_BUDGET),
    }
    return Workspace(**{**fields, **changes})


def board() -> Workspace:
    return build(leads=BOARD_LEADS, revision=12)


def rebuilt(workspace: Workspace, **changes: Any) -> Workspace:
    """*workspace* built again through the constructor from its public fields."""
    fields = {
        field.alias or field.name: getattr(workspace, field.alias or field.name)
        for field in attrs.fields(Workspace)
        if field.init
    }
    return Workspace(**{**fields, **changes})


def naive_totals(workspace: Workspace, pipeline: Pipeline) -> tuple[StageTotal, ...]:
    totals = []
    for stage in pipeline.stages:
        there = [
            item
            for item in workspace.leads.values()
            if (item.pipeline_id, item.stage_id) == (pipeline.id, stage.id)
        ]
        totals.append(StageTotal(stage.id, len(there), sum(item.price for item in there)))
    return tuple(totals)


# -- strategies ---------------------------------------------------------------------


@st.composite
def workspace_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Valid constructor arguments: grown pipelines, leads in any stage, any loss reasons."""
    pipeline_ids = draw(st.lists(st.integers(1, 60), min_size=1, max_size=3, unique=True))
    pipelines = tuple(
        attrs.evolve(draw(grown_pipelines()), id=pipeline_id, name=f"Pipeline {pipeline_id}")
        for pipeline_id in pipeline_ids
    )
    reasons = tuple(
        LossReason(reason_id, f"Reason {reason_id}")
        for reason_id in draw(st.lists(st.integers(1, 30), max_size=3, unique=True))
    )
    leads: list[Lead] = []
    for lead_id in draw(st.lists(st.integers(1, 2**40), max_size=30, unique=True)):
        pipeline = draw(st.sampled_from(pipelines))
        stage = draw(st.sampled_from(pipeline.stages))
        closed = stage.kind in (StageKind.WON, StageKind.LOST)
        reason = None
        if stage.kind is StageKind.LOST and reasons:
            reason = draw(st.none() | st.sampled_from([reason.id for reason in reasons]))
        leads.append(
            lead(
                lead_id,
                pipeline.id,
                stage.id,
                price=draw(st.integers(0, 10**9)),
                closed_at=CLOSED if closed else None,
                loss_reason_id=reason,
                name=draw(st.sampled_from(["ACME", "Globex", "Initech"])),
            )
        )
    return {
        "pipelines": pipelines,
        "main_pipeline_id": draw(st.sampled_from(pipeline_ids)),
        "leads": leads,
        "loss_reasons": reasons,
        "revision": draw(st.integers(0, 1_000)),
    }


_lead_ids = st.integers(1, 4)
_pipeline_ids = st.sampled_from([1, 1, 2, 3, 9])
_stage_ids = st.sampled_from([142, 143, 144, 145, 146, 147, 999])

create_leads = st.builds(
    CreateLead,
    st.sampled_from(["ACME", "Globex"]),
    price=st.integers(0, 1_000),
    pipeline_id=st.none() | _pipeline_ids,
    incoming=st.booleans(),
)
workspace_commands = st.one_of(
    create_leads,
    st.builds(MoveLead, _lead_ids, _stage_ids, pipeline_id=st.none() | _pipeline_ids),
    st.builds(MoveLead, _lead_ids, _stage_ids),
    st.builds(WinLead, _lead_ids),
    st.builds(LoseLead, _lead_ids, st.none() | st.integers(1, 3)),
    st.builds(DeleteLead, _lead_ids),
    st.builds(AddLossReason, st.sampled_from(["Late", "Too expensive", "No budget"])),
    st.builds(CreatePipeline, st.sampled_from(["Sales", "Support"]), incoming=st.booleans()),
)


# -- new_workspace ------------------------------------------------------------------


class TestNewWorkspace:
    def test_has_one_main_pipeline_with_id_1(self) -> None:
        workspace = new_workspace()
        assert workspace.pipelines == (default_pipeline(),)
        assert workspace.main_pipeline_id == 1
        assert workspace.main_pipeline is workspace.pipelines[0]
        assert workspace.main_pipeline.id == 1

    def test_has_no_leads_no_loss_reasons_and_revision_0(self) -> None:
        workspace = new_workspace()
        assert len(workspace.leads) == 0
        assert workspace.leads == {}
        assert workspace.loss_reasons == ()
        assert workspace.revision == 0

    def test_counters_start_after_the_main_pipeline(self) -> None:
        workspace = new_workspace()
        assert workspace.next_pipeline_id == 2
        assert workspace.next_lead_id == 1
        assert workspace.next_loss_reason_id == 1

    def test_incoming_leads_are_off_by_default(self) -> None:
        assert new_workspace().main_pipeline.incoming is None

    def test_incoming_switches_the_incoming_leads_stage_on(self) -> None:
        workspace = new_workspace(incoming=True)
        assert workspace.pipelines == (default_pipeline(incoming=True),)
        incoming = workspace.main_pipeline.incoming
        assert incoming is not None
        assert incoming.name == "Incoming leads"

    def test_equals_the_workspace_built_by_hand(self) -> None:
        assert new_workspace() == Workspace(pipelines=(default_pipeline(),), main_pipeline_id=1)
        assert new_workspace() == new_workspace()
        assert new_workspace() != new_workspace(incoming=True)

    def test_incoming_is_keyword_only(self) -> None:
        with pytest.raises(TypeError):
            new_workspace(True)  # type: ignore[call-arg]  # the positional call is under test

    @pytest.mark.parametrize("incoming", [1, "yes", None], ids=repr)
    def test_incoming_that_is_not_a_bool_is_a_type_error(self, incoming: Any) -> None:
        with pytest.raises(TypeError, match="incoming must be a bool"):
            new_workspace(incoming=incoming)


# -- the constructor ----------------------------------------------------------------


class TestConstruction:
    def test_holds_its_fields(self) -> None:
        workspace = build(leads=[lead(1)], revision=3)
        assert workspace.pipelines == (MAIN, SALES)
        assert workspace.main_pipeline_id == 1
        assert dict(workspace.leads) == {1: lead(1)}
        assert workspace.loss_reasons == (TOO_EXPENSIVE, NO_BUDGET)
        assert workspace.revision == 3

    def test_fields_come_in_order(self) -> None:
        assert [field.alias for field in attrs.fields(Workspace) if field.init] == [
            "pipelines",
            "main_pipeline_id",
            "leads",
            "loss_reasons",
            "revision",
            "next_pipeline_id",
            "next_lead_id",
            "next_loss_reason_id",
            "automations",
            "next_automation_id",
            "scheduled",
            "next_scheduled_id",
        ]

    def test_leads_loss_reasons_and_revision_are_optional(self) -> None:
        workspace = Workspace(pipelines=(MAIN,), main_pipeline_id=1)
        assert workspace.leads == {}
        assert workspace.loss_reasons == ()
        assert workspace.revision == 0

    def test_pipelines_and_loss_reasons_given_as_lists_become_tuples(self) -> None:
        workspace = build(pipelines=[MAIN, SALES], loss_reasons=[NO_BUDGET, TOO_EXPENSIVE])
        assert workspace.pipelines == (MAIN, SALES)
        assert workspace.loss_reasons == (NO_BUDGET, TOO_EXPENSIVE)
        assert workspace == build(
            pipelines=iter([MAIN, SALES]), loss_reasons=(NO_BUDGET, TOO_EXPENSIVE)
        )

    @pytest.mark.parametrize(
        "form",
        [
            pytest.param(lambda: list(BOARD_LEADS), id="list"),
            pytest.param(lambda: BOARD_LEADS, id="tuple"),
            pytest.param(lambda: (item for item in BOARD_LEADS), id="generator"),
            pytest.param(lambda: {item.id: item for item in BOARD_LEADS}, id="dict"),
            pytest.param(
                lambda: types.MappingProxyType({item.id: item for item in BOARD_LEADS}), id="proxy"
            ),
            pytest.param(lambda: board().leads, id="index"),
        ],
    )
    def test_takes_leads_as_a_list_a_mapping_or_an_index(self, form: Callable[[], Any]) -> None:
        workspace = build(leads=form(), revision=12)
        assert workspace == board()
        assert workspace.leads == {item.id: item for item in BOARD_LEADS}
        assert workspace.stage_totals(1) == board().stage_totals(1)

    @pytest.mark.parametrize("leads", [[], (), {}], ids=repr)
    def test_takes_no_leads(self, leads: Any) -> None:
        assert build(leads=leads) == build()

    def test_keeps_a_copy_of_a_dict_of_leads(self) -> None:
        leads = {1: lead(1)}
        workspace = build(leads=leads)
        leads[2] = lead(2)
        del leads[1]
        assert dict(workspace.leads) == {1: lead(1)}

    def test_lead_names_need_not_be_unique(self) -> None:
        workspace = build(leads=[lead(1, name="ACME"), lead(2, name="acme"), lead(3, name="ACME")])
        assert len(workspace.leads) == 3

    def test_takes_leads_in_every_kind_of_stage(self) -> None:
        workspace = board()
        assert workspace.lead(20).stage_id == SALES.stages[0].id
        assert workspace.lead(5).closed_at == CLOSED
        assert workspace.lead(6).loss_reason_id == 1
        assert workspace.lead(8).loss_reason_id is None

    def test_stage_ids_belong_to_their_pipeline(self) -> None:
        # Both pipelines have a stage 144 (R9): a lead names the pipeline and the stage.
        workspace = build(leads=[lead(1, 1, 144), lead(2, 2, 144)])
        assert workspace.leads_in(1, 144) == (lead(1, 1, 144),)
        assert workspace.leads_in(2, 144) == (lead(2, 2, 144),)

    def test_the_main_pipeline_need_not_come_first(self) -> None:
        workspace = build(main_pipeline_id=2)
        assert workspace.main_pipeline is SALES

    def test_holds_max_pipelines(self) -> None:
        assert MAX_PIPELINES == 50
        pipelines = tuple(default_pipeline(f"P{n}", pipeline_id=n) for n in range(1, 51))
        workspace = build(pipelines=pipelines)
        assert len(workspace.pipelines) == 50

    def test_a_loss_reason_need_not_be_in_use(self) -> None:
        assert build(leads=[lead(1)]).loss_reasons == (TOO_EXPENSIVE, NO_BUDGET)


class TestCounters:
    def test_default_to_one_above_the_highest_id(self) -> None:
        workspace = build(
            pipelines=(MAIN, default_pipeline("Sales", pipeline_id=7)),
            leads=[lead(3), lead(10), lead(2)],
            loss_reasons=(LossReason(5, "Late"), LossReason(2, "Gone")),
        )
        assert workspace.next_pipeline_id == 8
        assert workspace.next_lead_id == 11
        assert workspace.next_loss_reason_id == 6

    def test_start_at_1_without_leads_or_loss_reasons(self) -> None:
        workspace = build(loss_reasons=())
        assert workspace.next_lead_id == 1
        assert workspace.next_loss_reason_id == 1

    def test_keep_values_above_every_id(self) -> None:
        workspace = build(
            leads=[lead(3)], next_pipeline_id=40, next_lead_id=900, next_loss_reason_id=3
        )
        assert (workspace.next_pipeline_id, workspace.next_lead_id) == (40, 900)
        assert workspace.next_loss_reason_id == 3

    @EXPENSIVE
    @given(workspace_fields())
    def test_always_stand_above_every_id_in_use(self, fields: dict[str, Any]) -> None:
        workspace = Workspace(**fields)
        assert workspace.next_pipeline_id == max(p.id for p in workspace.pipelines) + 1
        assert workspace.next_lead_id == max(workspace.leads, default=0) + 1
        assert (
            workspace.next_loss_reason_id
            == max((r.id for r in workspace.loss_reasons), default=0) + 1
        )


# -- the rules the constructor enforces ---------------------------------------------

FIFTY_ONE = tuple(default_pipeline(f"P{n}", pipeline_id=n) for n in range(1, 52))

BROKEN = [
    # W1: every lead sits in an existing stage of an existing pipeline.
    pytest.param(
        {"leads": [lead(1, 9, 144)]}, "W1", "lead 1 is in pipeline 9, unknown", id="W1 pipeline"
    ),
    pytest.param(
        {"leads": [lead(1, 1, 999)]},
        "W1",
        "lead 1 is in stage 999, unknown in pipeline 1",
        id="W1 stage",
    ),
    pytest.param(
        # Stage 147 exists, but in Sales: the main pipeline has no incoming leads stage.
        {"leads": [lead(1, 1, 147)]},
        "W1",
        "lead 1 is in stage 147, unknown in pipeline 1",
        id="W1 stage of another pipeline",
    ),
    # W3: pipelines and their names, the main pipeline, loss reason names.
    pytest.param({"pipelines": ()}, "W3", "at least one pipeline", id="W3 no pipelines"),
    pytest.param(
        {"pipelines": FIFTY_ONE}, "W3", "51 pipelines, at most 50 are allowed", id="W3 over 50"
    ),
    pytest.param(
        {"pipelines": (MAIN, default_pipeline(" pipeline ", pipeline_id=2))},
        "W3",
        "two pipelines have clashing names 'pipeline'",
        id="W3 pipeline names",
    ),
    pytest.param(
        {
            "pipelines": (
                MAIN,
                default_pipeline("\uff30\uff29\uff30\uff25\uff2c\uff29\uff2e\uff25", pipeline_id=2),
            )
        },
        "W3",
        "two pipelines have clashing names",
        id="W3 pipeline names NFKC",
    ),
    pytest.param(
        {"main_pipeline_id": 9},
        "W3",
        "the main pipeline 9 is not in the workspace",
        id="W3 main missing",
    ),
    pytest.param(
        {"loss_reasons": (TOO_EXPENSIVE, LossReason(2, " too EXPENSIVE"))},
        "W3",
        "two loss reasons have clashing names 'too EXPENSIVE'",
        id="W3 loss reason names",
    ),
    # W5: closed_at exactly while in won or lost, a loss reason only while in lost.
    pytest.param(
        {"leads": [lead(1, 1, 144, closed_at=CLOSED)]},
        "W5",
        "lead 1 must have closed_at set exactly while it is in won or lost,"
        " and it is in the open stage",
        id="W5 closed in open",
    ),
    pytest.param(
        {"leads": [lead(1, 2, 147, closed_at=CLOSED)]},
        "W5",
        "and it is in the incoming leads stage",
        id="W5 closed in incoming",
    ),
    pytest.param(
        {"leads": [lead(1, 1, 142)]}, "W5", "and it is in the won stage", id="W5 won not closed"
    ),
    pytest.param(
        {"leads": [lead(1, 1, 143, loss_reason_id=1)]},
        "W5",
        "and it is in the lost stage",
        id="W5 lost not closed",
    ),
    pytest.param(
        {"leads": [lead(1, 1, 142, closed_at=CLOSED, loss_reason_id=1)]},
        "W5",
        "lead 1 has a loss reason but is not in the lost stage",
        id="W5 loss reason in won",
    ),
    pytest.param(
        {"leads": [lead(1, 1, 144, loss_reason_id=1)]},
        "W5",
        "lead 1 has a loss reason but is not in the lost stage",
        id="W5 loss reason in open",
    ),
    pytest.param(
        {"leads": [lead(1, 1, 143, closed_at=CLOSED, loss_reason_id=9)]},
        "W5",
        "lead 1 gives the unknown loss reason 9",
        id="W5 unknown loss reason",
    ),
    # W6: unique ids, counters above them, a revision of at least 0.
    pytest.param(
        {"pipelines": (MAIN, default_pipeline("Sales", pipeline_id=1))},
        "W6",
        "two pipelines have the id 1",
        id="W6 pipeline ids",
    ),
    pytest.param(
        {"leads": [lead(1, price=1), lead(2), lead(1, price=2)]},
        "W6",
        "two leads have the same id",
        id="W6 lead ids",
    ),
    pytest.param(
        {"leads": [lead(1), lead(1)]}, "W6", "two leads have the same id", id="W6 same lead twice"
    ),
    pytest.param(
        {"leads": {1: lead(1), 3: lead(2)}},
        "W6",
        "lead 2 is filed under the key 3",
        id="W6 dict key",
    ),
    pytest.param(
        {"leads": {"1": lead(1)}}, "W6", "lead 1 is filed under the key '1'", id="W6 str key"
    ),
    pytest.param(
        {"loss_reasons": (TOO_EXPENSIVE, LossReason(1, "Late"))},
        "W6",
        "two loss reasons have the id 1",
        id="W6 loss reason ids",
    ),
    pytest.param(
        {"next_pipeline_id": 2},
        "W6",
        "the next pipeline id 2 must be above every pipeline id in use",
        id="W6 pipeline counter",
    ),
    pytest.param(
        {"leads": [lead(4)], "next_lead_id": 4},
        "W6",
        "the next lead id 4 must be above every lead id in use",
        id="W6 lead counter",
    ),
    pytest.param(
        {"next_lead_id": 0},
        "W6",
        "the next lead id 0 must be above every lead id in use",
        id="W6 lead counter without leads",
    ),
    pytest.param(
        {"next_loss_reason_id": 1},
        "W6",
        "the next loss reason id 1 must be above every loss reason id in use",
        id="W6 loss reason counter",
    ),
    pytest.param(
        {"revision": -1}, "W6", "the revision is at least 0, got -1", id="W6 negative revision"
    ),
]


class TestBrokenRules:
    @pytest.mark.parametrize(("changes", "rule", "match"), BROKEN)
    def test_is_refused_naming_the_rule(
        self, changes: dict[str, Any], rule: str, match: str
    ) -> None:
        with pytest.raises(InvalidWorkspace, match=f"^invalid workspace \\({rule}\\): ") as info:
            build(**changes)
        assert match in info.value.reason
        assert info.value.rule == rule
        assert info.value.code == "invalid_workspace"
        assert isinstance(info.value, RuleViolation)

    def test_an_index_keyed_by_something_else_is_refused(self) -> None:
        # An index is a Mapping: a lead filed under another key breaks W6 as in a dict.
        by_price = PersistentIndex(attrgetter("price"), iter([lead(1, price=5)]))
        assert dict(by_price) == {5: lead(1, price=5)}
        with pytest.raises(InvalidWorkspace, match="filed under the key 5") as info:
            build(leads=by_price)
        assert info.value.rule == "W6"


class TestTypes:
    """Wrong Python types are programming errors: TypeError, never a RuleViolation."""

    @pytest.mark.parametrize(
        ("changes", "match"),
        [
            pytest.param(
                {"pipelines": (MAIN, "Sales")},
                "each pipeline of a workspace must be a Pipeline, got str",
                id="pipeline",
            ),
            pytest.param({"pipelines": None}, "not iterable", id="pipelines"),
            pytest.param(
                {"leads": [lead(1), 2]},
                "each lead of a workspace must be a Lead, got int",
                id="list",
            ),
            pytest.param(
                {"leads": {1: lead(1), 2: "Globex"}},
                "each lead of a workspace must be a Lead, got str",
                id="dict",
            ),
            pytest.param({"leads": 3}, "not iterable", id="leads"),
            pytest.param(
                {"loss_reasons": ("Too expensive",)},
                "each loss reason of a workspace must be a LossReason, got str",
                id="loss reason",
            ),
            pytest.param({"main_pipeline_id": "1"}, "main_pipeline_id must be an int", id="main"),
            pytest.param(
                {"main_pipeline_id": True}, "main_pipeline_id must be an int", id="main bool"
            ),
            pytest.param({"revision": "0"}, "revision must be an int, got str", id="revision"),
            pytest.param(
                {"revision": False}, "revision must be an int, got bool", id="revision bool"
            ),
            pytest.param(
                {"revision": 1.0}, "revision must be an int, got float", id="revision float"
            ),
            pytest.param(
                {"next_pipeline_id": 3.0},
                "the next pipeline id must be an int",
                id="pipeline counter",
            ),
            pytest.param(
                {"next_lead_id": "9"}, "the next lead id must be an int", id="lead counter"
            ),
            pytest.param(
                {"next_loss_reason_id": None},
                "the next loss reason id must be an int",
                id="loss reason counter",
            ),
        ],
    )
    def test_a_wrong_type_is_a_type_error(self, changes: dict[str, Any], match: str) -> None:
        with pytest.raises(TypeError, match=match) as info:
            build(**changes)
        assert not isinstance(info.value, RuleViolation)

    def test_an_index_of_values_that_are_not_leads_is_a_type_error(self) -> None:
        ids: PersistentIndex[int] = PersistentIndex(values=iter([5]))
        with pytest.raises(TypeError, match="each lead of a workspace must be a Lead, got int"):
            build(leads=ids)


# -- the queries --------------------------------------------------------------------


class TestPipeline:
    def test_returns_the_pipeline_with_the_id(self) -> None:
        workspace = build()
        assert workspace.pipeline(1) is MAIN
        assert workspace.pipeline(2) is SALES

    def test_an_unknown_id_raises_unknown_pipeline(self) -> None:
        with pytest.raises(UnknownPipeline, match=r"^no pipeline has id 9$") as info:
            build().pipeline(9)
        assert info.value.pipeline_id == 9
        assert isinstance(info.value, LookupError)

    @pytest.mark.parametrize("pipeline_id", ["1", 1.0, True, None], ids=repr)
    def test_an_id_that_is_not_an_int_is_a_type_error(self, pipeline_id: Any) -> None:
        with pytest.raises(TypeError, match="a pipeline id must be an int"):
            build().pipeline(pipeline_id)

    def test_main_pipeline_is_the_one_with_the_main_id(self) -> None:
        assert build().main_pipeline is MAIN
        assert build(main_pipeline_id=2).main_pipeline is SALES


class TestLead:
    def test_returns_the_lead_with_the_id(self) -> None:
        workspace = board()
        for item in BOARD_LEADS:
            assert workspace.lead(item.id) == item

    @pytest.mark.parametrize("lead_id", [1, 2, 9, 10, 34, 0, -3, 2**64])
    def test_an_unknown_id_raises_unknown_lead(self, lead_id: int) -> None:
        with pytest.raises(UnknownLead, match=f"^no lead has id {lead_id}$") as info:
            board().lead(lead_id)
        assert info.value.lead_id == lead_id
        assert isinstance(info.value, LookupError)

    @pytest.mark.parametrize("lead_id", ["3", 3.0, True, None], ids=repr)
    def test_an_id_that_is_not_an_int_is_a_type_error(self, lead_id: Any) -> None:
        with pytest.raises(TypeError, match="a lead id must be an int"):
            board().lead(lead_id)


class TestLeadsIn:
    def test_returns_the_leads_of_a_stage_by_id(self) -> None:
        workspace = board()
        assert workspace.leads_in(1, 144) == (lead(3, price=250), lead(7), lead(33, price=100))
        assert workspace.leads_in(1, 143) == tuple(workspace.lead(lead_id) for lead_id in (6, 8))
        assert workspace.leads_in(2, 147) == (workspace.lead(20),)

    def test_an_empty_stage_gives_an_empty_tuple(self) -> None:
        assert board().leads_in(1, 146) == ()
        assert build().leads_in(2, 147) == ()

    def test_an_unknown_stage_raises_unknown_stage(self) -> None:
        with pytest.raises(UnknownStage, match=r"^no stage has id 999 in pipeline 1$") as info:
            board().leads_in(1, 999)
        assert (info.value.stage_id, info.value.pipeline_id) == (999, 1)
        assert isinstance(info.value, LookupError)

    def test_a_stage_of_another_pipeline_raises_unknown_stage(self) -> None:
        with pytest.raises(UnknownStage, match=r"^no stage has id 147 in pipeline 1$") as info:
            board().leads_in(1, 147)
        assert (info.value.stage_id, info.value.pipeline_id) == (147, 1)

    def test_an_unknown_pipeline_raises_unknown_pipeline(self) -> None:
        with pytest.raises(UnknownPipeline, match=r"^no pipeline has id 9$"):
            board().leads_in(9, 144)

    def test_ids_that_are_not_ints_are_type_errors(self) -> None:
        with pytest.raises(TypeError, match="a pipeline id must be an int"):
            board().leads_in("1", 144)  # type: ignore[arg-type]  # what is under test
        with pytest.raises(TypeError, match="a stage id must be an int"):
            board().leads_in(1, "144")  # type: ignore[arg-type]  # what is under test


class TestStageTotals:
    def test_gives_one_total_per_stage_in_stage_order(self) -> None:
        assert board().stage_totals(1) == (
            StageTotal(stage_id=144, count=3, total=350),
            StageTotal(stage_id=145, count=1, total=40),
            StageTotal(stage_id=146, count=0, total=0),
            StageTotal(stage_id=142, count=1, total=1_000),
            StageTotal(stage_id=143, count=2, total=10),
        )

    def test_counts_the_incoming_leads_stage_first(self) -> None:
        totals = board().stage_totals(2)
        assert [total.stage_id for total in totals] == [147, 144, 145, 146, 142, 143]
        assert totals[0] == StageTotal(147, 1, 50)
        assert totals[1] == StageTotal(144, 1, 5)

    def test_an_empty_pipeline_has_zero_totals(self) -> None:
        assert build().stage_totals(1) == tuple(StageTotal(s.id, 0, 0) for s in MAIN.stages)

    def test_an_unknown_pipeline_raises_unknown_pipeline(self) -> None:
        with pytest.raises(UnknownPipeline, match=r"^no pipeline has id 3$"):
            board().stage_totals(3)

    def test_a_stage_total_is_a_frozen_value(self) -> None:
        total = StageTotal(144, 3, 350)
        assert [field.name for field in attrs.fields(StageTotal)] == ["stage_id", "count", "total"]
        assert total == StageTotal(stage_id=144, count=3, total=350)
        assert hash(total) == hash(StageTotal(144, 3, 350))
        assert total != StageTotal(144, 3, 351)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            total.count = 4  # type: ignore[misc]  # what is under test
        assert eval(repr(total), {"StageTotal": StageTotal}) == total


class TestLeadCount:
    def test_counts_the_leads_of_a_pipeline(self) -> None:
        assert board().lead_count(1) == 7
        assert board().lead_count(2) == 2
        assert build().lead_count(1) == 0

    def test_an_unknown_pipeline_raises_unknown_pipeline(self) -> None:
        with pytest.raises(UnknownPipeline, match=r"^no pipeline has id 3$"):
            board().lead_count(3)


class TestLossReasonQuery:
    def test_returns_the_loss_reason_with_the_id(self) -> None:
        assert build().loss_reason(2) is NO_BUDGET
        assert build().loss_reason(1) is TOO_EXPENSIVE

    def test_an_unknown_id_raises_unknown_loss_reason(self) -> None:
        with pytest.raises(UnknownLossReason, match=r"^no loss reason has id 3$") as info:
            build().loss_reason(3)
        assert info.value.reason_id == 3
        assert isinstance(info.value, LookupError)

    def test_an_id_that_is_not_an_int_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="a loss reason id must be an int"):
            build().loss_reason("1")  # type: ignore[arg-type]  # what is under test

    def test_gives_the_position_of_a_loss_reason(self) -> None:
        workspace = build(loss_reasons=(NO_BUDGET, TOO_EXPENSIVE))
        assert workspace.loss_reason_index(2) == 0
        assert workspace.loss_reason_index(1) == 1
        assert workspace.loss_reasons[workspace.loss_reason_index(1)] is TOO_EXPENSIVE

    def test_the_position_of_an_unknown_id_raises_unknown_loss_reason(self) -> None:
        with pytest.raises(UnknownLossReason, match=r"^no loss reason has id 3$") as info:
            build().loss_reason_index(3)
        assert info.value.reason_id == 3


class TestAutomationQuery:
    def test_finds_an_automation_and_its_position(self) -> None:
        email = HostAction("send_email")
        first = Automation(3, 1, (144,), Trigger.ENTERED, email)
        second = Automation(7, 1, (145,), Trigger.LEFT, email)
        workspace = build(automations=(first, second))
        assert workspace.automation(7) is second
        assert workspace.automation_index(7) == 1

    @pytest.mark.parametrize("query", ["automation", "automation_index"])
    def test_an_unknown_id_raises_unknown_automation(self, query: str) -> None:
        with pytest.raises(UnknownAutomation, match=r"^no automation has id 9$") as info:
            getattr(build(), query)(9)
        assert info.value.automation_id == 9

    @pytest.mark.parametrize("query", ["automation", "automation_index"])
    def test_an_id_that_is_not_an_int_is_a_type_error(self, query: str) -> None:
        with pytest.raises(TypeError, match="an automation id must be an int"):
            getattr(build(), query)("1")


class TestQueriesAgreeWithTheLeads:
    @EXPENSIVE
    @given(workspace_fields())
    def test_every_query_matches_a_plain_scan(self, fields: dict[str, Any]) -> None:
        workspace = Workspace(**fields)
        leads = {item.id: item for item in fields["leads"]}
        assert workspace.leads == leads
        assert workspace.main_pipeline.id == fields["main_pipeline_id"]
        for pipeline in fields["pipelines"]:
            assert workspace.pipeline(pipeline.id) == pipeline
            assert workspace.stage_totals(pipeline.id) == naive_totals(workspace, pipeline)
            assert workspace.lead_count(pipeline.id) == sum(
                1 for item in leads.values() if item.pipeline_id == pipeline.id
            )
            for stage in pipeline.stages:
                assert workspace.leads_in(pipeline.id, stage.id) == tuple(
                    sorted(
                        (
                            item
                            for item in leads.values()
                            if (item.pipeline_id, item.stage_id) == (pipeline.id, stage.id)
                        ),
                        key=attrgetter("id"),
                    )
                )
        for lead_id, item in leads.items():
            assert workspace.lead(lead_id) == item
        for reason in fields["loss_reasons"]:
            assert workspace.loss_reason(reason.id) == reason

    @EXPENSIVE
    @given(workspace_fields())
    def test_leads_given_as_a_list_a_dict_or_an_index_give_equal_workspaces(
        self, fields: dict[str, Any]
    ) -> None:
        from_list = Workspace(**fields)
        from_dict = Workspace(**{**fields, "leads": {item.id: item for item in fields["leads"]}})
        from_index = Workspace(**{**fields, "leads": from_list.leads})
        assert from_list == from_dict == from_index
        for pipeline in from_list.pipelines:
            assert from_dict.stage_totals(pipeline.id) == from_list.stage_totals(pipeline.id)


# -- equality, hashing, pickling, read-only -----------------------------------------


class TestFolded:
    def test_gives_the_workspace_with_the_folds_events(self) -> None:
        workspace = board()
        fold = workspace.fold()
        moved = LeadMoved(13, CLOSED, 3, 1, 144, 1, 146)
        fold.apply(moved)
        result = workspace.folded(fold)
        assert result == workspace.evolved((moved,))
        assert result.lead(3).stage_id == 146
        assert (result.revision, workspace.revision) == (13, 12)

    def test_a_fold_with_no_event_gives_the_workspace_itself(self) -> None:
        workspace = board()
        fold = workspace.fold()
        fold.record(3)  # read, not changed
        assert workspace.folded(fold) is workspace

    @pytest.mark.parametrize(
        "other",
        [
            lambda workspace: rebuilt(workspace).fold(),
            lambda workspace: Fold(workspace.account, rebuilt(workspace)),
            lambda workspace: Fold(workspace.account, DictLeads.of(workspace)),
        ],
        ids=["of an equal workspace", "over an equal workspace", "over a table of its leads"],
    )
    def test_refuses_a_fold_begun_on_another_workspace(self, other: Any) -> None:
        workspace = board()
        fold = other(workspace)
        fold.apply(LeadMoved(13, CLOSED, 3, 1, 144, 1, 146))
        with pytest.raises(ValueError, match=r"^the fold was not begun on this workspace$"):
            workspace.folded(fold)
        assert workspace.lead(3).stage_id == 144
        assert workspace.revision == 12

    def test_refuses_a_fold_of_another_workspace_even_with_no_event(self) -> None:
        with pytest.raises(ValueError, match=r"^the fold was not begun on this workspace$"):
            board().folded(new_workspace().fold())


class TestEquality:
    def test_a_workspace_rebuilt_from_its_public_fields_equals_it(self) -> None:
        workspace = board()
        again = rebuilt(workspace)
        assert again == workspace
        assert hash(again) == hash(workspace)
        assert again.stage_totals(1) == workspace.stage_totals(1)

    @EXPENSIVE
    @given(workspace_fields())
    def test_holds_for_any_hand_built_workspace(self, fields: dict[str, Any]) -> None:
        workspace = Workspace(**fields)
        assert rebuilt(workspace) == workspace
        assert rebuilt(workspace, leads=dict(workspace.leads)) == workspace
        assert hash(rebuilt(workspace)) == hash(workspace)

    @MODERATE
    @given(
        st.lists(create_leads, min_size=2, max_size=8), st.lists(workspace_commands, max_size=30)
    )
    def test_holds_for_any_workspace_grown_by_commands(
        self, creates: list[CreateLead], commands: list[Any]
    ) -> None:
        workspace = new_workspace(incoming=True)
        for command in [*creates, *commands]:
            try:
                workspace = apply(workspace, command, at=AT).workspace
            except RuleViolation:
                continue
        again = rebuilt(workspace, leads=list(workspace.leads.values()))
        assert again == workspace
        assert hash(again) == hash(workspace)
        for pipeline in workspace.pipelines:
            # What the commands keep up to date must be what the constructor counts.
            assert again.stage_totals(pipeline.id) == workspace.stage_totals(pipeline.id)
            assert workspace.stage_totals(pipeline.id) == naive_totals(workspace, pipeline)
            assert again.lead_count(pipeline.id) == workspace.lead_count(pipeline.id)
            for stage in pipeline.stages:
                assert again.leads_in(pipeline.id, stage.id) == workspace.leads_in(
                    pipeline.id, stage.id
                )

    @pytest.mark.parametrize(
        "changes",
        [
            {"pipelines": (SALES, MAIN)},
            {"main_pipeline_id": 2},
            {"leads": [*BOARD_LEADS[:-1], lead(21, 2, 144, price=6)]},
            {"leads": BOARD_LEADS[:-1]},
            {"loss_reasons": (TOO_EXPENSIVE, LossReason(2, "No money"))},
            {"loss_reasons": (TOO_EXPENSIVE, NO_BUDGET, LossReason(3, "Late"))},
            {"revision": 13},
            {"next_pipeline_id": 4},
            {"next_lead_id": 40},
            {"next_loss_reason_id": 4},
        ],
        ids=lambda changes: next(iter(changes)),
    )
    def test_any_different_public_field_makes_a_different_workspace(
        self, changes: dict[str, Any]
    ) -> None:
        assert build(**{"leads": BOARD_LEADS, "revision": 12, **changes}) != board()

    def test_repr_evaluates_to_an_equal_workspace(self) -> None:
        workspace = board()
        assert eval(repr(workspace), NAMESPACE) == workspace


class TestPickling:
    @pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
    def test_pickles_to_an_equal_workspace_that_still_works(self, protocol: int) -> None:
        workspace = board()
        restored = pickle.loads(pickle.dumps(workspace, protocol=protocol))
        assert restored == workspace
        assert restored.stage_totals(1) == workspace.stage_totals(1)
        assert restored.leads_in(1, 144) == workspace.leads_in(1, 144)
        assert restored.lead(21) == workspace.lead(21)
        command = MoveLead(lead_id=3, stage_id=145)
        assert apply(restored, command, at=AT) == apply(workspace, command, at=AT)

    def test_copies_are_equal_and_still_work(self) -> None:
        workspace = board()
        command = LoseLead(lead_id=33, loss_reason_id=2)
        for copied in (copy.copy(workspace), copy.deepcopy(workspace)):
            assert copied == workspace
            assert apply(copied, command, at=AT) == apply(workspace, command, at=AT)


class TestReadOnly:
    def test_leads_is_a_read_only_mapping(self) -> None:
        leads = board().leads
        assert isinstance(leads, Mapping)
        assert not isinstance(leads, MutableMapping)
        for name in ("pop", "popitem", "update", "clear", "setdefault", "__setitem__"):
            assert not hasattr(leads, name)

    def test_leads_take_no_item_assignment_or_deletion(self) -> None:
        workspace = board()
        leads: Any = workspace.leads
        with pytest.raises(TypeError, match="does not support item assignment"):
            leads[1] = lead(1)
        with pytest.raises(TypeError, match="support item deletion"):
            del leads[3]
        assert workspace == board()

    @pytest.mark.parametrize(
        "field", [field.name for field in attrs.fields(Workspace) if field.init]
    )
    def test_is_frozen(self, field: str) -> None:
        workspace = board()
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(workspace, field, getattr(workspace, field))
        assert workspace == board()

    def test_pipelines_and_loss_reasons_are_tuples(self) -> None:
        workspace = build(pipelines=[MAIN, SALES], loss_reasons=[TOO_EXPENSIVE])
        assert type(workspace.pipelines) is tuple
        assert type(workspace.loss_reasons) is tuple


class CountedId(int):
    """An id that counts how often it is compared or hashed: the cost of finding it."""

    looks: int = 0

    def __eq__(self, other: object) -> bool:
        CountedId.looks += 1
        return int(self) == other

    def __hash__(self) -> int:
        CountedId.looks += 1
        return int.__hash__(self)


class TestConstructionCost:
    """Issue 18, item 8: 40,000 lost leads on the last of 40,000 reasons loaded in 25 s."""

    @pytest.mark.parametrize("given", ["the first reason", "the last reason"])
    def test_finds_each_lead_s_reason_in_a_constant_number_of_looks(self, given: str) -> None:
        count = 2000
        reasons = [
            LossReason(CountedId(number), f"Reason {number}") for number in range(1, 1 + count)
        ]
        reason_id = reasons[0].id if given == "the first reason" else reasons[-1].id
        at = datetime(2026, 1, 1, tzinfo=dt.UTC)
        leads = [
            Lead(number, "Lost", 1, 143, 0, at, at, at, reason_id) for number in range(1, 1 + count)
        ]
        CountedId.looks = 0
        workspace = Workspace((default_pipeline(),), 1, leads=leads, loss_reasons=reasons)
        # A scan of the reasons per lead would take about count * count = 4,000,000 looks.
        assert CountedId.looks <= 10 * (count + count)
        assert workspace.account.reason_count(reason_id) == count
