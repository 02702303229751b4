"""Colours (R8): ``#rrggbb`` in lower case, ``#rgb`` expanded, and Kommo's palette."""

from __future__ import annotations

import copy
import pickle

import attrs
import pytest

from pipekit import KOMMO_PALETTE, Color, InvalidColor

# Kommo's 21 write colours, in Kommo's order (../shared/reference/kommo-api.md).
KOMMO_ORDER = [
    "#fffeb2",
    "#fffd7f",
    "#fff000",
    "#ffeab2",
    "#ffdc7f",
    "#ffce5a",
    "#ffdbdb",
    "#ffc8c8",
    "#ff8f92",
    "#d6eaff",
    "#c1e0ff",
    "#98cbff",
    "#ebffb1",
    "#deff81",
    "#87f2c0",
    "#f9deff",
    "#f3beff",
    "#ccc8f9",
    "#eb93ff",
    "#f2f3f4",
    "#e6e8ea",
]


class TestNormalisation:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("#99ccff", "#99ccff"),
            ("#9cf", "#99ccff"),
            ("#9CF", "#99ccff"),
            ("#000", "#000000"),
            ("#ABCDEF", "#abcdef"),
            ("#aBc123", "#abc123"),
            ("#CCFF66", "#ccff66"),
        ],
    )
    def test_hex_is_lower_case_rrggbb(self, given: str, expected: str) -> None:
        assert Color(given).hex == expected

    def test_accepts_colours_outside_the_palette(self) -> None:
        assert Color("#c1c1c1") not in KOMMO_PALETTE
        assert Color("#c1c1c1").hex == "#c1c1c1"


class TestEquality:
    def test_two_spellings_of_one_colour_are_equal(self) -> None:
        assert Color("#9cf") == Color("#99CCFF")

    def test_different_colours_are_not_equal(self) -> None:
        assert Color("#99ccff") != Color("#99ccfe")

    def test_is_not_equal_to_its_string(self) -> None:
        text: object = "#99ccff"
        assert Color("#99ccff") != text

    def test_equal_colours_hash_alike(self) -> None:
        assert hash(Color("#9cf")) == hash(Color("#99ccff"))
        assert len({Color("#9cf"), Color("#99CCFF"), Color("#99ccff")}) == 1


class TestRepr:
    def test_repr_is_the_normalised_constructor_call(self) -> None:
        assert repr(Color("#9CF")) == "Color('#99ccff')"

    def test_repr_evaluates_to_an_equal_colour(self) -> None:
        color = Color("#ABC")
        assert eval(repr(color), {"Color": Color}) == color

    def test_str_is_the_hex(self) -> None:
        assert str(Color("#9CF")) == "#99ccff"


class TestValueObject:
    def test_is_frozen(self) -> None:
        color = Color("#99ccff")
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            color.hex = "#000000"  # type: ignore[misc]  # the point: assignment is refused
        assert color.hex == "#99ccff"

    def test_pickles_to_an_equal_colour(self) -> None:
        color = Color("#9cf")
        assert pickle.loads(pickle.dumps(color)) == color

    def test_copies_are_equal(self) -> None:
        color = Color("#9cf")
        assert copy.copy(color) == color
        assert copy.deepcopy(color) == color


class TestInvalidColor:
    @pytest.mark.parametrize(
        "value",
        [
            "",
            "#",
            "fff",
            "99ccff",
            "#f",
            "#ff",
            "#ffff",
            "#fffff",
            "#12345",
            "#1234567",
            "#ggg",
            "#12345g",
            "##fff",
            " #fff",
            "#fff ",
            "#fff\n",
            "#99ccff\n",
            "red",
            "#\uff10\uff10\uff10",  # fullwidth digits are not hex digits
            "#\u0663\u0663\u0663",  # nor are Arabic-Indic digits
        ],
    )
    def test_rejects_anything_but_rgb_or_rrggbb(self, value: str) -> None:
        with pytest.raises(InvalidColor, match="expected '#rrggbb' or '#rgb'") as info:
            Color(value)
        assert info.value.value == value

    def test_message_quotes_the_value(self) -> None:
        with pytest.raises(InvalidColor, match=r"^invalid colour '#12345': expected"):
            Color("#12345")

    @pytest.mark.parametrize("value", [None, 0x99CCFF, b"#99ccff", ["#99ccff"]])
    def test_non_string_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="colour must be a str"):
            Color(value)  # type: ignore[arg-type]  # on purpose


class TestKommoPalette:
    def test_holds_kommos_21_colours_in_kommos_order(self) -> None:
        assert [color.hex for color in KOMMO_PALETTE] == KOMMO_ORDER

    def test_is_a_tuple_of_colours(self) -> None:
        assert isinstance(KOMMO_PALETTE, tuple)
        assert all(isinstance(color, Color) for color in KOMMO_PALETTE)

    def test_colours_are_distinct(self) -> None:
        assert len(set(KOMMO_PALETTE)) == len(KOMMO_PALETTE) == 21

    def test_leaves_out_the_system_colours(self) -> None:
        for system in ("#c1c1c1", "#ccff66", "#d5d8db"):
            assert Color(system) not in KOMMO_PALETTE
