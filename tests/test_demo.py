"""The tour ``pipekit demo`` prints: its text, word for word, and what it must show."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Final

import pytest

from pipekit import CreateLead, MoveLead
from pipekit.cli._board import _cells
from pipekit.cli._demo import _LATER, _START, _Tour, demo

GOLDEN: Final = Path(__file__).parent / "data" / "demo.txt"
ESCAPE: Final = re.compile(r"\x1b\[[0-9;]*m")


class TestText:
    def test_is_the_golden_text(self) -> None:
        # To accept a deliberate change: python -c "from pipekit.cli._demo import demo;
        # print(demo(color=False, width=100), end='')" > tests/data/demo.txt, then read it.
        assert demo(color=False, width=100) == GOLDEN.read_text(encoding="utf-8")

    def test_is_the_same_on_every_call(self) -> None:
        assert demo(color=True, width=80) == demo(color=True, width=80)
        assert demo(color=False, width=100) == demo(color=False, width=100)

    def test_ends_with_one_newline_and_no_line_ends_in_a_space(self) -> None:
        text = demo(color=False, width=100)
        assert text.endswith(".\n")
        assert not any(line.endswith(" ") for line in text.split("\n"))

    @pytest.mark.parametrize("width", [20, 33, 60, 100, 200])
    def test_no_line_but_a_command_is_wider_than_the_width(self, width: int) -> None:
        for line in demo(color=False, width=width).split("\n"):
            assert _cells(line) <= width or line.startswith("> "), line

    def test_takes_a_width_below_the_minimum_as_the_minimum(self) -> None:
        assert demo(color=False, width=3) == demo(color=False, width=20)

    def test_writes_no_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        demo(color=True, width=100)
        assert list(tmp_path.iterdir()) == []


class TestColor:
    def test_plain_text_holds_no_escape(self) -> None:
        assert "\x1b" not in demo(color=False, width=100)

    def test_paints_swatches_and_headings(self) -> None:
        text = demo(color=True, width=100)
        assert "\x1b[48;2;152;203;255m\x1b[38;2;0;0;0m#98cbff\x1b[0m id 145" in text
        assert text.startswith(
            "\x1b[1m== 1. A new workspace holds one pipeline, the main one\x1b[0m"
        )

    @pytest.mark.parametrize("width", [20, 100])
    def test_without_its_escapes_is_the_plain_text(self, width: int) -> None:
        coloured = demo(color=True, width=width)
        assert ESCAPE.sub("", coloured) == demo(color=False, width=width)


class TestStory:
    """Every step the issue names is in the tour, in order."""

    STEPS: Final = (
        "== 1. A new workspace holds one pipeline, the main one",
        "== 2. Switch incoming leads on",
        "== 3. Add, rename, recolour and move stages",
        "== 4. Create leads: in open stages, and in incoming leads to wait there",
        "== 5. Move leads; accept and decline the ones waiting in incoming leads",
        "== 6. Win a lead, and lose one with a reason",
        "== 7. Delete a stage that holds leads: they move to another open stage first",
        "== 8. Automate a stage: a welcome e-mail for every lead entering Initial Contact, and a"
        " move on to Demo booked two days later",
        "== 9. Commands the rules refuse, each with an error code and a message",
        "== 10. The final board: counts and totals per stage, and the leads in each",
    )

    def test_switches_incoming_leads_on(self) -> None:
        assert "  IncomingStageEnabled: Incoming leads (id 147) comes first now;" in demo(
            color=False, width=100
        )

    def test_has_every_step_in_order(self) -> None:
        text = demo(color=False, width=200)  # wide enough for every heading on one line
        headings = [line for line in text.split("\n") if line.startswith("== ")]
        assert headings == list(self.STEPS)

    @pytest.mark.parametrize(
        "line",
        [
            "> EnableIncoming(pipeline_id=1)",
            "> AddStage(pipeline_id=1, name='Qualified', position=1)",
            "> RenameStage(pipeline_id=1, stage_id=145, name='Proposal sent')",
            "> RecolorStage(pipeline_id=1, stage_id=145, color='#98cbff')",
            "> MoveStage(pipeline_id=1, stage_id=149, position=2)",
            "  LeadCreated: Stark Industries inquiry (lead 5, price 90,000) is in Incoming leads",
            "  LeadMoved: ACME Corp website (lead 1, price 150,000) is in Qualified",
            "  LeadAccepted: Stark Industries inquiry (lead 5, price 90,000) is in Qualified",
            "  LeadDeclined: Hooli newsletter signup (lead 7, price 0) has left the workspace",
            "  LossReasonAdded: loss reason 1, Chose a competitor",
            "> WinLead(lead_id=3)",
            "> LoseLead(lead_id=4, loss_reason_id=1)",
            "  LeadsRelocated(from_stage_id=148, to_stage_id=144, lead_ids=(1, 5)):",
            "    ACME Corp website (lead 1, price 150,000) moved to Initial Contact",
            "  refused: stage_locked - the won stage (id 142) cannot be deleted",
            "> MoveLead(lead_id=6, stage_id=147)",
            "> AddAutomation(pipeline_id=1, stage_ids=(147,), trigger=Trigger.ENTERED,"
            " action=MoveTo(stage_id=144))",
            "A refused command changes nothing: the workspace is still at revision 27.",
        ],
    )
    def test_shows(self, line: str) -> None:
        assert line in demo(color=False, width=100).split("\n")

    def test_loses_a_lead_with_its_reason(self) -> None:
        text = demo(color=False, width=100)
        assert (
            "Umbrella Health pilot (lead 4, price 75,000) is in Closed - lost, lost with reason 1"
            in text
        )
        assert "(Chose a competitor)" in text

    def test_refuses_moving_a_lead_into_incoming_leads(self) -> None:
        text = demo(color=False, width=200)
        assert (
            "  refused: stage_locked - the incoming leads stage (id 147) cannot be entered by a"
            " move: new requests arrive there by CreateLead\n"
        ) in text

    def test_ends_with_the_board_with_counts_totals_and_leads(self) -> None:
        text = demo(color=False, width=100)
        final = text[text.index("== 10.") :]
        assert "Pipeline 1: Pipeline (main)" in final
        assert "3 leads" in final
        assert "740,000" in final  # ACME 150,000 + Stark 90,000 + Wayne 500,000
        assert "108,000" in final  # Demo booked: Globex 48,000 + Pied Piper 60,000, moved there
        assert "Initech migration  Umbrella Health pilot" in final


class TestAutomationScene:
    """Step 8: a welcome e-mail scheduled on entering the first open stage, a lead moved later."""

    def scene(self) -> list[str]:
        text = demo(color=False, width=1000)  # no sentence wrapped
        return text[text.index("== 8.") : text.index("== 9.")].split("\n")

    @pytest.mark.parametrize(
        "line",
        [
            "> AddAutomation(pipeline_id=1, stage_ids=(144,), trigger=Trigger.ENTERED,"
            " action=HostAction(kind='send_email', params={'template': 'welcome'}))",
            '  AutomationAdded: automation 1 (entered): send_email {"template": "welcome"};'
            " no delay; watches Initial Contact",
            "> AddAutomation(pipeline_id=1, stage_ids=(144,), trigger=Trigger.ENTERED,"
            " action=MoveTo(stage_id=149), delay=timedelta(days=2))",
            "  AutomationAdded: automation 2 (entered): move to Demo booked; after 2 days;"
            " watches Initial Contact",
            "Adding them scheduled nothing for the 3 leads already in Initial Contact: automations"
            " act on what happens from now on.",
            "> CreateLead(name='Pied Piper trial', price=60000)",
            "  LeadCreated, ActionScheduled, ActionScheduled: Pied Piper trial (lead 8, price"
            " 60,000) is in Initial Contact",
            '    item 1: send_email {"template": "welcome"}, due 2026-11-27T11:05:00+00:00',
            "    item 2: move to Demo booked, due 2026-11-29T11:05:00+00:00",
            "> RunDue()",
            "> CompleteAction(scheduled_id=1)",
            "  ActionCompleted: the host reports the e-mail sent; workspace.scheduled is now ()",
        ],
    )
    def test_shows(self, line: str) -> None:
        assert line in self.scene()

    def test_hands_the_email_over_and_moves_the_lead(self) -> None:
        (ran,) = [line for line in self.scene() if line.startswith("  ActionHandedOver")]
        assert ran == (
            "  ActionHandedOver, LeadMoved, ActionCompleted: item 1 went to the host to send the"
            " e-mail (it stays in workspace.scheduled until the host reports back); pipekit"
            " carried out item 2 itself: Pied Piper trial (lead 8, price 60,000) is in Demo booked"
        )

    def test_runs_what_is_due_at_a_fixed_time_after_the_delay(self) -> None:
        assert any("At 2026-11-30 09:00 UTC, after the two days:" in line for line in self.scene())
        assert "(now: item 1)" in " ".join(self.scene())


class TestTour:
    def test_fails_loudly_when_a_command_it_means_to_show_refused_is_accepted(self) -> None:
        tour = _Tour(color=False, width=100)
        with pytest.raises(AssertionError, match="the rules accepted CreateLead"):
            tour.refuse(CreateLead("ACME Corp website"))

    def test_runs_five_minutes_after_the_last_command_or_at_the_time_given(self) -> None:
        tour = _Tour(color=False, width=100)
        tour.run(CreateLead("ACME"), "created")
        assert tour.at == _START + timedelta(minutes=5)
        tour.run(MoveLead(1, 145), "moved", at=_LATER)
        assert tour.at == _LATER
        assert tour.workspace.lead(1).stage_id == 145
