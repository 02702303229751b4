"""The board ``pipekit show`` and ``pipekit demo`` draw: layout, numbers, leads and colour."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Final

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipekit import (
    AddStage,
    CreateLead,
    CreatePipeline,
    RecolorStage,
    RenameStage,
    UnknownPipeline,
    Workspace,
    new_workspace,
)
from pipekit.cli._board import MIN_WIDTH, _cells, render_board
from tests.apply_helpers import INITIAL, NEGOTIATION, OFFER, run
from tests.profiles import COSTLY
from tests.workspace_strategies import workspaces

ESCAPE: Final = re.compile(r"\x1b\[[0-9;]*m")
SWATCH: Final = re.compile(r"#[0-9a-f]{6} id (\d+)")

DEFAULT_BOARD: Final = """\
Pipeline 1: Pipeline (main)

Initial Contact  Offer Made      Negotiation     Closed - won    Closed - lost
#fffeb2 id 144   #fffd7f id 145  #fff000 id 146  #ccff66 id 142  #d5d8db id 143
0 leads          0 leads         0 leads         0 leads         0 leads
0                0               0               0               0"""


def strip(text: str) -> str:
    return ESCAPE.sub("", text)


def sales() -> Workspace:
    """The default pipeline with three leads: two in Initial Contact, one in Negotiation."""
    return run(
        new_workspace(),
        CreateLead("ACME Corp website", price=150_000),
        CreateLead("Globex renewal", price=4_800),
        CreateLead("Initech migration", price=1_234_567, stage_id=NEGOTIATION),
    )


def with_stage_named(name: str) -> Workspace:
    return run(new_workspace(), RenameStage(1, OFFER, name))


# -- reading a plain board back -------------------------------------------------------------


def to_cells(line: str) -> list[str]:
    """*line* as terminal cells: a wide character takes two (the second empty), and a
    zero-width one joins the next cell. Zero-width ones at the end of the line make a cell
    of their own, where the next character would be: they may be all of a column's line."""
    cells: list[str] = []
    pending = ""
    for char in line:
        size = _cells(char)
        if size == 0:
            pending += char
            continue
        cells.append(pending + char)
        cells.extend([""] * (size - 1))
        pending = ""
    if pending:
        cells.append(pending)
    return cells


@dataclass(frozen=True)
class Column:
    start: int
    lines: tuple[str, ...]

    @property
    def width(self) -> int:
        return max(_cells(line) for line in self.lines)

    @property
    def stage_id(self) -> int:
        match = SWATCH.fullmatch(self.lines[1])
        assert match is not None, self.lines[1]
        return int(match[1])


def read_board(text: str) -> tuple[str, list[list[Column]]]:
    """Return the header of a plain board and its bands of columns, each column's lines."""
    header, *bands = text.split("\n\n")
    parsed = []
    for band in bands:
        rows = [to_cells(line) for line in band.split("\n")]
        starts = [match.start() for match in SWATCH.finditer(band.split("\n")[1])]
        columns = []
        for start, end in zip(starts, [*starts[1:], None], strict=True):
            lines = ["".join(row[start:end]).rstrip(" ") for row in rows]
            while lines and not lines[-1]:
                lines.pop()
            columns.append(Column(start, tuple(lines)))
        parsed.append(columns)
    return header, parsed


def shows(shown: str, name: str, width: int) -> bool:
    """Whether *shown* is *name*, or (only when *name* is wider than *width*) its start and "…"."""
    if _cells(name) <= width:
        return shown == name
    return shown.endswith("…") and name.startswith(shown[:-1]) and _cells(shown) <= width


def pipelines_of(workspace: Workspace) -> st.SearchStrategy[int]:
    return st.sampled_from([pipeline.id for pipeline in workspace.pipelines])


# -- the tests ----------------------------------------------------------------------------


class TestHeader:
    def test_draws_the_default_pipeline(self) -> None:
        assert render_board(new_workspace(), 1, width=80, color=False) == DEFAULT_BOARD

    def test_names_the_pipeline_and_marks_the_main_one(self) -> None:
        workspace = run(new_workspace(), CreatePipeline("Renewals"))
        assert render_board(workspace, 1, width=80, color=False).startswith(
            "Pipeline 1: Pipeline (main)\n"
        )
        assert render_board(workspace, 2, width=80, color=False).startswith(
            "Pipeline 2: Renewals\n"
        )

    def test_marks_an_archived_pipeline(self) -> None:
        workspace = run(new_workspace(), CreatePipeline("Old deals"))
        archived = tuple(attrs.evolve(pipeline, archived=True) for pipeline in workspace.pipelines)
        workspace = attrs.evolve(workspace, pipelines=archived)
        assert render_board(workspace, 1, width=80, color=False).startswith(
            "Pipeline 1: Pipeline (main, archived)\n"
        )
        assert render_board(workspace, 2, width=80, color=False).startswith(
            "Pipeline 2: Old deals (archived)\n"
        )

    def test_cuts_a_pipeline_name_longer_than_the_width(self) -> None:
        workspace = run(new_workspace(), CreatePipeline("Q" * 40))
        header = render_board(workspace, 2, width=30, color=False).split("\n")[0]
        assert header == "Pipeline 2: " + "Q" * 17 + "…"

    def test_an_unknown_pipeline_raises(self) -> None:
        with pytest.raises(UnknownPipeline, match="no pipeline has id 7"):
            render_board(new_workspace(), 7, width=80, color=False)


class TestLayout:
    def test_wraps_columns_that_do_not_fit_onto_a_new_band(self) -> None:
        board = render_board(new_workspace(incoming=True), 1, width=50, color=False)
        assert board == (
            "Pipeline 1: Pipeline (main)\n"
            "\n"
            "Incoming leads  Initial Contact  Offer Made\n"
            "#c1c1c1 id 147  #fffeb2 id 144   #fffd7f id 145\n"
            "0 leads         0 leads          0 leads\n"
            "0               0                0\n"
            "\n"
            "Negotiation     Closed - won    Closed - lost\n"
            "#fff000 id 146  #ccff66 id 142  #d5d8db id 143\n"
            "0 leads         0 leads         0 leads\n"
            "0               0               0"
        )

    def test_fills_a_band_to_exactly_the_width(self) -> None:
        widest = max(len(line) for line in DEFAULT_BOARD.split("\n"))
        assert widest == 79
        assert render_board(new_workspace(), 1, width=79, color=False) == DEFAULT_BOARD
        narrower = render_board(new_workspace(), 1, width=78, color=False).split("\n")
        assert narrower[2] == "Initial Contact  Offer Made      Negotiation     Closed - won"
        assert narrower[7] == "Closed - lost"

    @pytest.mark.parametrize("width", [20, 21, 40])
    def test_never_cuts_a_name_that_fits(self, width: int) -> None:
        name = "N" * (width - 1) + "x"
        board = render_board(with_stage_named(name), 1, width=width, color=False)
        _header, rest = board.split("\n", 1)
        assert name in rest.split("\n")
        assert "…" not in rest  # the header is cut, the stages are not

    def test_cuts_a_name_longer_than_the_width(self) -> None:
        board = render_board(
            with_stage_named("Ask for a signed offer " * 3), 1, width=30, color=False
        )
        assert "Ask for a signed offer Ask fo…" in board.split("\n")

    def test_counts_wide_characters_as_two_cells(self) -> None:
        name = "見積もり提出済み" * 2  # 16 characters, 32 cells
        board = render_board(with_stage_named(name), 1, width=25, color=False)
        assert "見積もり提出済み見積もり…" in board.split("\n")  # 24 cells and "…"
        assert max(_cells(line) for line in board.split("\n")) <= 25

    def test_counts_combining_and_format_characters_as_no_cells(self) -> None:
        assert _cells("Cafe\u0301") == 4
        assert _cells("a\u200bb") == 2
        assert _cells("見") == 2

    def test_takes_a_width_below_the_minimum_as_the_minimum(self) -> None:
        workspace = sales()
        assert render_board(workspace, 1, width=5, color=False, leads=True) == render_board(
            workspace, 1, width=MIN_WIDTH, color=False, leads=True
        )

    # Drawing whole workspaces is slow to generate on a busy machine; the check is the
    # property, not the generation speed.
    @COSTLY
    @given(st.data(), workspaces(), st.integers(20, 200), st.booleans(), st.booleans())
    def test_no_line_is_wider_than_the_width(
        self, data: st.DataObject, workspace: Workspace, width: int, leads: bool, color: bool
    ) -> None:
        pipeline_id = data.draw(pipelines_of(workspace))
        board = strip(render_board(workspace, pipeline_id, width=width, color=color, leads=leads))
        for line in board.split("\n"):
            assert _cells(line) <= width, line
            assert not line.endswith(" "), line
        assert not board.endswith("\n")

    @COSTLY
    @given(st.data(), workspaces(), st.integers(30, 200), st.booleans())
    def test_lays_columns_out_in_order_in_as_few_bands_as_fit(
        self, data: st.DataObject, workspace: Workspace, width: int, leads: bool
    ) -> None:
        pipeline_id = data.draw(pipelines_of(workspace))
        _header, bands = read_board(
            render_board(workspace, pipeline_id, width=width, color=False, leads=leads)
        )
        pipeline = workspace.pipeline(pipeline_id)
        columns = [column for band in bands for column in band]
        assert [column.stage_id for column in columns] == [stage.id for stage in pipeline.stages]
        for column, stage in zip(columns, pipeline.stages, strict=True):
            assert shows(column.lines[0], stage.name, width)
        for previous, band in zip([None, *bands], bands, strict=False):
            assert band[0].start == 0
            for left, right in itertools.pairwise(band):
                assert right.start == left.start + left.width + 2
            if previous is not None:  # the first column here did not fit after the last there
                assert previous[-1].start + previous[-1].width + 2 + band[0].width > width


class TestNumbers:
    def test_shows_counts_and_totals_with_a_thousands_separator(self) -> None:
        board = render_board(sales(), 1, width=80, color=False)
        assert board.split("\n")[4:6] == [
            "2 leads          0 leads         1 lead          0 leads         0 leads",
            "154,800          0               1,234,567       0               0",
        ]

    @COSTLY
    @given(st.data(), workspaces(), st.integers(30, 200))
    def test_counts_and_totals_equal_the_stage_totals(
        self, data: st.DataObject, workspace: Workspace, width: int
    ) -> None:
        pipeline_id = data.draw(pipelines_of(workspace))
        _header, bands = read_board(render_board(workspace, pipeline_id, width=width, color=False))
        shown = [
            (column.stage_id, column.lines[2], column.lines[3]) for band in bands for column in band
        ]
        assert shown == [
            (
                total.stage_id,
                f"{total.count} lead{'' if total.count == 1 else 's'}",
                f"{total.total:,}",
            )
            for total in workspace.stage_totals(pipeline_id)
        ]


class TestLeads:
    def test_lists_the_leads_under_their_stage(self) -> None:
        board = render_board(sales(), 1, width=100, color=False, leads=True)
        assert board.split("\n")[6:] == [
            "-----------------  --------------  ------------------  --------------  --------------",
            "ACME Corp website                  Initech migration",
            "  150,000 (id 1)                     1,234,567 (id 3)",
            "Globex renewal",
            "  4,800 (id 2)",
        ]

    def test_a_name_of_only_a_zero_width_character_stays_in_its_column(self) -> None:
        # A soft hyphen takes no cell: the line ends where Negotiation's column starts.
        workspace = run(new_workspace(), CreateLead("\xad", stage_id=NEGOTIATION))
        board = render_board(workspace, 1, width=30, color=False, leads=True)
        assert "\n" + " " * 16 + "\xad\n" in board
        _header, bands = read_board(board)
        offer, negotiation = bands[1]
        assert offer.lines[5:] == ()
        assert negotiation.lines[4:] == ("-" * 14, "\xad", "  0 (id 1)")

    def test_lists_no_leads_unless_asked(self) -> None:
        assert "ACME" not in render_board(sales(), 1, width=80, color=False)

    @COSTLY
    @given(st.data(), workspaces(), st.integers(30, 200))
    def test_lists_every_lead_of_the_pipeline_exactly_once(
        self, data: st.DataObject, workspace: Workspace, width: int
    ) -> None:
        pipeline_id = data.draw(pipelines_of(workspace))
        _header, bands = read_board(
            render_board(workspace, pipeline_id, width=width, color=False, leads=True)
        )
        shown = []
        for band in bands:
            for column in band:
                assert column.lines[4] == "-" * column.width
                listed = column.lines[5:]
                for name, price in zip(listed[::2], listed[1::2], strict=True):
                    shown.append((column.stage_id, name, price))
        leads = [
            lead
            for stage in workspace.pipeline(pipeline_id).stages
            for lead in workspace.leads_in(pipeline_id, stage.id)
        ]
        assert [(stage_id, price) for stage_id, _name, price in shown] == [
            (lead.stage_id, f"  {lead.price:,} (id {lead.id})") for lead in leads
        ]
        for (_stage_id, name, _price), lead in zip(shown, leads, strict=True):
            assert shows(name, lead.name, width)


class TestColor:
    def test_plain_output_holds_no_escape(self) -> None:
        assert "\x1b" not in render_board(sales(), 1, width=80, color=False, leads=True)

    def test_paints_each_stage_colour_as_a_24_bit_background(self) -> None:
        board = render_board(new_workspace(incoming=True), 1, width=80, color=True)
        for background in (
            "\x1b[48;2;193;193;193m",  # incoming leads, #c1c1c1
            "\x1b[48;2;255;254;178m",  # #fffeb2
            "\x1b[48;2;255;253;127m",  # #fffd7f
            "\x1b[48;2;255;240;0m",  # #fff000
            "\x1b[48;2;204;255;102m",  # won, #ccff66
            "\x1b[48;2;213;216;219m",  # lost, #d5d8db
        ):
            assert background + "\x1b[38;2;0;0;0m" in board
        assert board.startswith("\x1b[1mPipeline 1: Pipeline (main)\x1b[0m\n")

    def test_writes_white_on_a_dark_colour(self) -> None:
        workspace = run(new_workspace(), RecolorStage(1, INITIAL, "#123456"))
        board = render_board(workspace, 1, width=80, color=True)
        assert "\x1b[48;2;18;52;86m\x1b[38;2;255;255;255m#123456\x1b[0m id 144" in board

    def test_a_new_stage_colour_is_painted_too(self) -> None:
        workspace = run(new_workspace(), AddStage(1, "Demo", color="#98cbff"))
        assert "\x1b[48;2;152;203;255m" in render_board(workspace, 1, width=200, color=True)

    @COSTLY
    @given(st.data(), workspaces(), st.integers(20, 200), st.booleans())
    def test_without_its_escapes_the_coloured_board_is_the_plain_one(
        self, data: st.DataObject, workspace: Workspace, width: int, leads: bool
    ) -> None:
        pipeline_id = data.draw(pipelines_of(workspace))
        coloured = render_board(workspace, pipeline_id, width=width, color=True, leads=leads)
        plain = render_board(workspace, pipeline_id, width=width, color=False, leads=leads)
        assert "\x1b" not in plain
        for stage in workspace.pipeline(pipeline_id).stages:
            red, green, blue = (int(stage.color.hex[i : i + 2], 16) for i in (1, 3, 5))
            assert f"\x1b[48;2;{red};{green};{blue}m" in coloured
        assert strip(coloured) == plain


class TestPurity:
    def test_leaves_the_workspace_unchanged_and_repeats_itself(self) -> None:
        workspace = sales()
        before = attrs.evolve(workspace)
        first = render_board(workspace, 1, width=60, color=True, leads=True)
        assert render_board(workspace, 1, width=60, color=True, leads=True) == first
        assert workspace == before
