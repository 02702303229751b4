"""The desired-pipeline TOML file that ``pipekit plan`` reads: its rules and its errors."""

from __future__ import annotations

import json
import pickle
import tomllib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipekit import (
    KOMMO_PALETTE,
    Color,
    PipekitError,
    Pipeline,
    Stage,
    StageKind,
    Workspace,
    add_stage,
    apply,
    default_pipeline,
    delete_stage,
    plan,
)
from pipekit.cli import _desired
from pipekit.cli._desired import DesiredError, desired_pipeline
from pipekit.names import name_key
from tests.profiles import COSTLY
from tests.strategies import colors, names, pipelines

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CURRENT = default_pipeline("Sales")


def toml_string(text: str) -> str:
    """Return *text* as a TOML basic string (JSON's escapes are TOML's, but for astral \\u)."""
    return json.dumps(text, ensure_ascii=False)


def toml(stages: list[tuple[str, Color | None]], **top: str | bool) -> str:
    """Return a desired-pipeline file: *top* keys, then one [[stages]] table per stage."""
    lines = [
        f"{key} = {'true' if value is True else 'false' if value is False else toml_string(value)}"
        for key, value in top.items()
    ]
    for name, color in stages:
        lines += ["", "[[stages]]", f"name = {toml_string(name)}"]
        if color is not None:
            lines.append(f'color = "{color.hex}"')
    return "\n".join(lines) + "\n"


def listed(*stage_names: str) -> str:
    return toml([(name, None) for name in stage_names])


def applied(current: Pipeline, desired: Pipeline) -> Pipeline:
    """Return *current* after the plan to *desired* is applied to it in a workspace."""
    workspace = Workspace(pipelines=(current,), main_pipeline_id=current.id)
    for command in plan(current, desired):
        workspace = apply(workspace, command, at=AT).workspace
    return workspace.pipeline(current.id)


class TestStages:
    def test_listing_the_open_stages_as_they_are_gives_the_same_pipeline(self) -> None:
        text = toml([(stage.name, stage.color) for stage in CURRENT.open_stages])
        assert desired_pipeline(CURRENT, text) == CURRENT
        assert desired_pipeline(CURRENT, listed(*(s.name for s in CURRENT.open_stages))) == CURRENT

    def test_a_matched_stage_keeps_its_id_and_takes_the_spelling_listed(self) -> None:
        desired = desired_pipeline(
            CURRENT, listed("OFFER MADE", "\uff4eegotiation", "Initial Contact")
        )
        assert [(s.id, s.name) for s in desired.open_stages] == [
            (145, "OFFER MADE"),
            (146, "\uff4eegotiation"),
            (144, "Initial Contact"),
        ]
        assert [s.color for s in desired.open_stages] == [
            CURRENT.stage(145).color,
            CURRENT.stage(146).color,
            CURRENT.stage(144).color,
        ]

    def test_a_color_recolours_a_matched_stage(self) -> None:
        desired = desired_pipeline(CURRENT, '[[stages]]\nname = "Offer Made"\ncolor = "#ABC"\n')
        assert desired.open_stages == (Stage(145, "Offer Made", "#aabbcc", StageKind.OPEN),)

    def test_an_unlisted_stage_is_deleted(self) -> None:
        desired = desired_pipeline(CURRENT, listed("Negotiation"))
        assert [s.id for s in desired.open_stages] == [146]

    def test_a_new_stage_takes_an_id_the_pipeline_never_held(self) -> None:
        current = delete_stage(add_stage(CURRENT, "Gone"), 147)  # 147 was held once
        desired = desired_pipeline(current, listed("Initial Contact", "Demo"))
        assert desired.open_stages[1].id == 148
        assert CURRENT.next_stage_id == 147  # the input is unchanged

    def test_a_new_stage_takes_the_colour_add_stage_gives(self) -> None:
        desired = desired_pipeline(
            CURRENT, listed("Initial Contact", "Offer Made", "Negotiation", "Demo")
        )
        expected = add_stage(CURRENT, "Demo").open_stages[-1].color
        assert desired.open_stages[-1].color == expected == KOMMO_PALETTE[3]

    def test_a_new_stage_finds_the_colours_of_deleted_stages_free(self) -> None:
        # The plan deletes Offer Made and Negotiation before it adds Demo.
        desired = desired_pipeline(CURRENT, listed("Initial Contact", "Demo"))
        assert desired.open_stages[1].color == KOMMO_PALETTE[1]

    def test_a_given_colour_beats_the_default(self) -> None:
        desired = desired_pipeline(CURRENT, toml([("Demo", Color("#123456"))]))
        assert desired.open_stages[0].color == Color("#123456")

    def test_new_stages_only(self) -> None:
        # Until the first is added, the plan keeps Initial Contact, which holds colour 0.
        desired = desired_pipeline(CURRENT, listed("Lead in", "Call", "Won over"))
        assert [(s.id, s.name, s.color) for s in desired.open_stages] == [
            (147, "Lead in", KOMMO_PALETTE[1]),
            (148, "Call", KOMMO_PALETTE[0]),
            (149, "Won over", KOMMO_PALETTE[2]),
        ]
        assert applied(CURRENT, desired).open_stages == desired.open_stages

    def test_a_listed_name_like_the_stand_in_is_kept_as_listed(self) -> None:
        text = listed("pipekit temporary stage 1", "PIPEKIT TEMPORARY STAGE 2")
        desired = desired_pipeline(CURRENT, text)
        assert [s.name for s in desired.open_stages] == [
            "pipekit temporary stage 1",
            "PIPEKIT TEMPORARY STAGE 2",
        ]

    def test_names_are_stripped(self) -> None:
        desired = desired_pipeline(CURRENT, listed("  Demo\t", " Negotiation "))
        assert [(s.id, s.name) for s in desired.open_stages] == [
            (147, "Demo"),
            (146, "Negotiation"),
        ]

    def test_stages_may_be_an_inline_array(self) -> None:
        text = 'stages = [{name = "Negotiation"}, {name = "Demo", color = "#fff"}]\n'
        desired = desired_pipeline(CURRENT, text)
        assert [(s.id, s.name, s.color.hex) for s in desired.open_stages] == [
            (146, "Negotiation", "#fff000"),
            (147, "Demo", "#ffffff"),
        ]


class TestTopLevelKeys:
    def test_left_out_they_keep_the_pipeline_as_it_is(self) -> None:
        current = Pipeline(
            id=7,
            name="Deals",
            stages=(
                Stage(9, "Inbox", "#abcdef", StageKind.INCOMING),
                Stage(10, "Call", "#fffeb2", StageKind.OPEN),
                Stage(142, "Yes", "#ccff66", StageKind.WON),
                Stage(143, "No", "#d5d8db", StageKind.LOST),
            ),
            next_stage_id=150,
            archived=True,
        )
        assert desired_pipeline(current, listed("Call")) == current

    def test_name_won_and_lost_rename(self) -> None:
        text = 'name = " Sales 2 "\nwon = "Paid"\nlost = "Lost"\n\n[[stages]]\nname = "Demo"\n'
        desired = desired_pipeline(CURRENT, text)
        assert desired.name == "Sales 2"
        assert desired.won == Stage(142, "Paid", "#ccff66", StageKind.WON)
        assert desired.lost == Stage(143, "Lost", "#d5d8db", StageKind.LOST)

    def test_won_and_lost_may_swap_names(self) -> None:
        text = 'won = "Closed - lost"\nlost = "Closed - won"\n' + listed("Demo")
        desired = desired_pipeline(CURRENT, text)
        assert (desired.won.name, desired.lost.name) == ("Closed - lost", "Closed - won")
        assert (applied(CURRENT, desired).won.name, applied(CURRENT, desired).lost.name) == (
            "Closed - lost",
            "Closed - won",
        )

    def test_incoming_true_switches_on_kommos_default_stage(self) -> None:
        desired = desired_pipeline(CURRENT, "incoming = true\n" + listed("Initial Contact"))
        assert desired.incoming is not None
        assert (desired.incoming.name, desired.incoming.color.hex) == ("Incoming leads", "#c1c1c1")
        assert desired.incoming.id >= CURRENT.next_stage_id

    def test_incoming_true_keeps_the_current_incoming_stage(self) -> None:
        current = default_pipeline("Sales", incoming=True)
        assert desired_pipeline(current, "incoming = true\n" + listed("Demo")).incoming == (
            current.incoming
        )

    def test_incoming_false_switches_it_off(self) -> None:
        current = default_pipeline("Sales", incoming=True)
        desired = desired_pipeline(current, "incoming = false\n" + listed("Incoming leads"))
        assert desired.incoming is None
        assert [s.name for s in desired.open_stages] == ["Incoming leads"]

    def test_a_wrong_argument_type_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="current must be a Pipeline"):
            desired_pipeline("Sales", listed("Demo"))  # type: ignore[arg-type]  # on purpose
        with pytest.raises(TypeError, match="text must be a str"):
            desired_pipeline(CURRENT, b"")  # type: ignore[arg-type]  # on purpose


def raises(text: str, line: int | None, match: str) -> DesiredError:
    with pytest.raises(DesiredError, match=match) as info:
        desired_pipeline(CURRENT, text)
    assert info.value.line == line
    return info.value


class TestErrors:
    def test_a_toml_syntax_error_gives_tomllibs_line(self) -> None:
        error = raises('name = "Sales"\nwon = \n', 2, r"^line 2: invalid TOML: Invalid value")
        assert error.reason == "invalid TOML: Invalid value (column 7)"

    def test_a_syntax_error_at_the_end_names_the_last_line(self) -> None:
        raises('\n[[stages]]\nname = "Demo', 3, "line 3: invalid TOML: Unterminated string")

    def test_an_unknown_key(self) -> None:
        raises(
            'name = "Sales"\nnmae = "x"\n' + listed("Demo"),
            2,
            r"^line 2: unknown key 'nmae': expected one of 'name', 'incoming', 'won', 'lost',"
            r" 'stages'$",
        )

    def test_an_unknown_table_or_dotted_key(self) -> None:
        raises(listed("Demo") + "\n[extra]\nx = 1\n", 5, "unknown key 'extra'")
        raises('"deep".x = 1\n' + listed("Demo"), 1, "unknown key 'deep'")

    def test_an_unknown_key_in_a_stage(self) -> None:
        raises(
            listed("Demo", "Call") + 'colour = "#fff"\n',
            7,
            r"^line 7: unknown key 'colour' in a stage: expected 'name' or 'color'$",
        )

    @pytest.mark.parametrize(
        ("text", "line", "match"),
        [
            ('name = 1\n[[stages]]\nname = "A"\n', 1, "'name' must be a string, got an integer"),
            ('won = true\n[[stages]]\nname = "A"\n', 1, "'won' must be a string, got a boolean"),
            ('\nlost = 1.5\n[[stages]]\nname = "A"\n', 2, "'lost' must be a string, got a float"),
            ("incoming = 1\n[[stages]]\nname = 'A'\n", 1, "'incoming' must be a boolean, got an"),
            ("[won]\nx = 1\n[[stages]]\nname = 'A'\n", 1, "'won' must be a string, got a table"),
            ("name = 2026-03-02\n[[stages]]\nname = 'A'\n", 1, "got a date or time"),
            ('stages = "Demo"\n', 1, r"'stages' must be an array of tables \(\[\[stages\]\]\)"),
            ("[stages]\nname = 'A'\n", 1, "'stages' must be an array of tables"),
            ("[[stages]]\nname = ['A']\n", 2, "'name' must be a string, got an array"),
            ("[[stages]]\nname = 'A'\ncolor = 0xfff\n", 3, "'color' must be a string such as"),
        ],
    )
    def test_a_value_of_the_wrong_type(self, text: str, line: int, match: str) -> None:
        raises(text, line, match)

    def test_a_stage_that_is_not_a_table(self) -> None:
        raises("\nstages = ['Demo']\n", 2, "^line 2: stage 1 must be a table with a name, got a")

    def test_a_stage_without_a_name(self) -> None:
        raises(
            listed("Demo") + '\n[[stages]]\ncolor = "#fff"\n', 5, "^line 5: stage 2 has no name$"
        )

    def test_an_invalid_name(self) -> None:
        raises(listed("Demo", "  "), 6, r"line 6: invalid name '  ': a name cannot be empty")
        raises(listed("a\tb"), 3, r"cannot hold control or line-break characters \(U\+0009\)")
        raises(listed("x" * 256), 3, "a name has at most 255 characters, this one has 256")
        raises('name = ""\n' + listed("Demo"), 1, "invalid name ''")
        raises('won = "\\n"\n' + listed("Demo"), 1, "invalid name")

    def test_an_invalid_colour(self) -> None:
        raises(
            '[[stages]]\ncolor = "#12"\nname = "Demo"\n',
            2,
            r"^line 2: invalid colour '#12': expected '#rrggbb' or '#rgb' in hex digits$",
        )

    def test_a_name_listed_twice(self) -> None:
        raises(
            listed("Demo", "Call", "DEMO"),
            9,
            r"^line 9: stage 3 'DEMO' clashes with stage 1 'Demo' \(names are compared ignoring"
            " case and Unicode compatibility forms\\)$",
        )

    def test_a_stage_name_that_clashes_with_a_system_stage(self) -> None:
        raises(listed("closed - won"), 3, "stage 1 'closed - won' clashes with the won stage")
        raises('lost = "Demo"\n' + listed("Demo"), 4, "stage 1 'Demo' clashes with the lost stage")
        raises('won = "Nope"\nlost = "nope"\n' + listed("A"), 2, "the lost stage 'nope' clashes")
        raises("incoming = true\n" + listed("Incoming Leads"), 4, "with the incoming leads stage")

    def test_a_stage_name_that_clashes_with_the_kept_incoming_stage(self) -> None:
        current = default_pipeline(incoming=True)
        with pytest.raises(DesiredError, match="stage 1 'incoming leads' clashes") as info:
            desired_pipeline(current, listed("incoming leads"))
        assert info.value.line == 3

    def test_no_stages(self) -> None:
        raises('name = "Sales"\n', None, "^no stages are listed: add a")
        raises('name = "Sales"\nstages = []\n', 2, "^line 2: at least one stage must be listed$")

    def test_too_many_stages(self) -> None:
        stage_names = [f"Stage {number}" for number in range(1, 100)]
        raises(
            listed(*stage_names),
            99 * 3 - 1,
            "^line 296: too many stages: 99 are listed, but at most 98 open stages fit",
        )
        raises("incoming = true\n" + listed(*stage_names[:98]), 98 * 3 - 1 + 1, "at most 97")
        assert len(desired_pipeline(CURRENT, listed(*stage_names[:98])).stages) == 100

    def test_too_many_stages_in_an_inline_array(self) -> None:
        inline = ", ".join(f"{{name = 'S{number}'}}" for number in range(99))
        raises(f"\nstages = [{inline}]\n", 2, "too many stages")

    def test_a_line_is_found_when_the_key_is_quoted(self) -> None:
        raises("""[[stages]]\n'name' = 'A'\n"color" = 'red'\n""", 3, "invalid colour 'red'")


class TestHostileFiles:
    """Files made to break the reader: each is a DesiredError, in time that grows with the file."""

    @pytest.mark.parametrize(
        "value",
        ["[" * 5_000 + "]" * 5_000, "{a = " * 5_000 + "1" + "}" * 5_000],
        ids=["arrays", "inline-tables"],
    )
    def test_arrays_or_tables_nested_too_deeply(self, value: str) -> None:
        error = raises(
            f"stages = {value}\n", None, "^invalid TOML: arrays or tables nested too deeply$"
        )
        assert error.__cause__ is None

    def test_a_dotted_key_of_too_many_parts_is_refused_before_tomllib_reads_it(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # tomllib takes minutes over one key of 64,000 parts: it is not asked.
        def unread(text: str) -> dict[str, object]:
            raise AssertionError("tomllib was asked to read the file")

        monkeypatch.setattr(tomllib, "loads", unread)
        refused = "^line 4: a dotted key of more than 16 parts: this file needs no dotted keys$"
        raises(listed("Demo") + "x." * 64_000 + "y = 1\n", 4, refused)
        raises('"x" . ' * 64_000 + "y = 1\n" + listed("Demo"), 1, "^line 1: a dotted key of")
        raises("\n\nname = 'A'\n" + "'x'\t.\t" * 16 + "y = 1\n", 4, "^line 4: a dotted key of")

    def test_a_dotted_key_of_up_to_16_parts_is_left_to_tomllib(self) -> None:
        raises("x." * 15 + "y = 1\n" + listed("Demo"), 1, "^line 1: unknown key 'x'")
        raises(listed("Demo") + "'x'.x.\"x\"." * 5 + "y = 1\n", 4, "unknown key 'x' in a stage")

    @pytest.mark.parametrize(
        "spelled",
        [
            '"{dots}"',
            "'{dots}'",
            '"""{dots}"""',
            '""""{dots}""""',
            "'''{dots}'''",
            "''''{dots}''''",
            '"\\"{dots}"',
            '"{dots}" # {dots}',
            "'{dots}' # '{dots}",
        ],
    )
    def test_dots_in_strings_and_comments_are_no_key(self, spelled: str) -> None:
        dots = ".".join(["a"] * 40)
        text = f"# {dots}\n[[stages]]\nname = {spelled.format(dots=dots)}\n"
        desired = desired_pipeline(CURRENT, text)
        assert dots in desired.stages[0].name

    @pytest.mark.parametrize("quotes", ['"""', "'''"])
    def test_dots_in_a_multiline_string_are_no_key(self, quotes: str) -> None:
        dots = ".".join(["a"] * 40)
        text = f"[[stages]]\nname = 'Demo'\ncolor = {quotes}\n{dots} = 1\n{quotes}\n"
        raises(text, 3, "invalid colour")

    def test_too_many_stages_are_refused_before_any_stage_is_read(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The count alone is the answer: reading each of 64,000 stages first took
        # time that grew with the square of their number.
        read: list[int] = []
        monkeypatch.setattr(_desired, "_stage", lambda table, at, lines: read.append(at))
        text = listed(*(f"Stage {number}" for number in range(64_000)))

        raises(text, 296, "^line 296: too many stages: 64000 are listed, but at most 98")
        assert read == []

    def test_the_lines_of_stage_keys_are_found_among_many_tables(self) -> None:
        headers = "".join(f"[stages.t{number}]\n" for number in range(2_000))
        raises(listed("Demo", "Call") + 'colour = "#fff"\n' + headers, 7, "unknown key 'colour'")
        lines = _desired._Lines(listed("Demo") + "[a]\nx = 1\n[b]\n" + listed("Call") + "y = 1\n")
        assert [lines.stage_key(0, "name"), lines.stage_key(1, "y")] == [3, 10]
        assert [lines.stage_key(0, "x"), lines.stage_key(1, "name")] == [2, 9]


class TestDesiredError:
    def test_is_a_pipekit_error_and_a_value_error_with_a_code(self) -> None:
        error = DesiredError(3, "a reason")
        assert isinstance(error, PipekitError)
        assert isinstance(error, ValueError)
        assert (error.code, error.line, error.reason, str(error)) == (
            "invalid_desired",
            3,
            "a reason",
            "line 3: a reason",
        )
        assert str(DesiredError(None, "no line")) == "no line"

    def test_pickles_with_its_facts(self) -> None:
        error = pickle.loads(pickle.dumps(DesiredError(3, "a reason")))
        assert (type(error), error.line, error.reason, str(error)) == (
            DesiredError,
            3,
            "a reason",
            "line 3: a reason",
        )


# -- laws ----------------------------------------------------------------------------------


@COSTLY
@given(pipelines(), st.data())
def test_listing_the_current_stages_plans_nothing(current: Pipeline, data: st.DataObject) -> None:
    top: dict[str, str | bool] = {}
    if data.draw(st.booleans()):
        top["name"] = current.name
    if data.draw(st.booleans()):
        top["incoming"] = current.incoming is not None
    if data.draw(st.booleans()):
        top["won"], top["lost"] = current.won.name, current.lost.name
    with_colors = data.draw(st.booleans())
    text = toml(
        [(stage.name, stage.color if with_colors else None) for stage in current.open_stages],
        **top,
    )
    desired = desired_pipeline(current, text)
    assert plan(current, desired) == ()
    assert desired == current


def _same_name(spelling: str, name: str) -> bool:
    """Whether *spelling* is a valid other spelling of *name* (swapcase can lengthen a name)."""
    return len(spelling) == len(name) and name_key(spelling) == name_key(name)


@st.composite
def wanted_stages(draw: st.DrawFn, current: Pipeline) -> list[tuple[str, Color | None]]:
    """Some of *current*'s open stages, shuffled, some re-spelt, some new; maybe coloured."""
    kept = draw(st.permutations(current.open_stages))[: draw(st.integers(0, 12))]
    spelled = [
        stage.name.swapcase()
        if draw(st.booleans()) and _same_name(stage.name.swapcase(), stage.name)
        else stage.name
        for stage in kept
    ]
    system = {name_key(stage.name) for stage in current.stages if stage.kind is not StageKind.OPEN}
    new = draw(st.lists(names(), max_size=4, unique_by=name_key))
    wanted = [*spelled, *(name for name in new if name_key(name) not in system)]
    wanted = draw(st.permutations(wanted))
    wanted = list({name_key(name): name for name in wanted}.values())  # one of each
    if not wanted:
        wanted = [draw(names().filter(lambda name: name_key(name) not in system))]
    return [(name, draw(st.none() | colors())) for name in wanted]


@COSTLY
@given(st.data())
def test_applying_the_plan_gives_the_stages_listed(data: st.DataObject) -> None:
    current = data.draw(pipelines())
    wanted = data.draw(wanted_stages(current))
    desired = desired_pipeline(current, toml(wanted))
    result = applied(current, desired)

    assert [stage.name for stage in result.open_stages] == [name for name, _ in wanted]
    assert [name_key(stage.name) for stage in result.open_stages] == [
        name_key(name) for name, _ in wanted
    ]
    before = {name_key(stage.name): stage for stage in current.open_stages}
    for stage, (name, color) in zip(result.open_stages, wanted, strict=True):
        old = before.get(name_key(name))
        if old is not None:
            assert stage.id == old.id
        else:
            assert stage.id >= current.next_stage_id
        if color is not None:
            assert stage.color == color
        elif old is not None:
            assert stage.color == old.color
    assert (result.won.id, result.lost.id) == (current.won.id, current.lost.id)
