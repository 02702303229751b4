"""Names (R7): stripped, non-empty, at most 255 code points, no Cc/Zl/Zp; the clash key."""

from __future__ import annotations

import re
import unicodedata

import pytest

from pipekit import MAX_NAME_LENGTH, InvalidName
from pipekit.names import _FORBIDDEN, clean_name, name_key


class TestCleanName:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("Demo", "Demo"),
            ("  Demo ", "Demo"),
            ("\tDemo\n", "Demo"),
            ("\u3000Demo\u00a0", "Demo"),
            ("Offer  Made", "Offer  Made"),
            ("Demo\u2028", "Demo"),  # a surrounding separator is white space: stripped first
        ],
    )
    def test_strips_surrounding_white_space_only(self, given: str, expected: str) -> None:
        assert clean_name(given) == expected

    @pytest.mark.parametrize("name", ["", " ", "   ", "\t\n", "\u3000", "\u2028"])
    def test_rejects_empty_or_white_space_only(self, name: str) -> None:
        with pytest.raises(InvalidName, match="cannot be empty or only white space") as info:
            clean_name(name)
        assert info.value.name == name

    def test_accepts_exactly_max_name_length_code_points(self) -> None:
        assert MAX_NAME_LENGTH == 255
        assert clean_name("a" * 255) == "a" * 255

    def test_counts_code_points_not_utf16_units(self) -> None:
        assert clean_name("\U0001f600" * 255) == "\U0001f600" * 255

    def test_rejects_one_code_point_too_many(self) -> None:
        with pytest.raises(InvalidName, match="at most 255 characters, this one has 256"):
            clean_name("a" * 256)

    def test_measures_the_length_after_stripping(self) -> None:
        assert clean_name("  " + "a" * 255 + "\t") == "a" * 255

    @pytest.mark.parametrize(
        ("name", "code"),
        [
            ("De\x00mo", "U+0000"),
            ("De\tmo", "U+0009"),
            ("De\nmo", "U+000A"),
            ("De\rmo", "U+000D"),
            ("De\x7fmo", "U+007F"),
            ("De\x85mo", "U+0085"),
            ("De\x9fmo", "U+009F"),
            ("De\u2028mo", "U+2028"),
            ("De\u2029mo", "U+2029"),
            ("Demo\x00", "U+0000"),  # NUL is not white space, so it is not stripped
        ],
    )
    def test_rejects_control_and_line_break_characters(self, name: str, code: str) -> None:
        expected = re.escape(f"cannot hold control or line-break characters ({code})")
        with pytest.raises(InvalidName, match=expected):
            clean_name(name)

    @pytest.mark.parametrize("name", ["De\u00a0mo", "De\u200bmo", "Caf\u00e9", "\u00c9tape 2"])
    def test_accepts_other_categories_inside(self, name: str) -> None:
        assert clean_name(name) == name

    def test_error_keeps_the_name_as_given(self) -> None:
        with pytest.raises(InvalidName) as info:
            clean_name(" De\nmo ")
        assert info.value.name == " De\nmo "

    @pytest.mark.parametrize("name", [None, 5, b"Demo", ["Demo"]])
    def test_non_string_is_a_type_error(self, name: object) -> None:
        with pytest.raises(TypeError, match="name must be a str"):
            clean_name(name)  # type: ignore[arg-type]  # on purpose


class TestNameKey:
    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("Demo", "DEMO "),
            ("Demo", "demo"),
            ("\uff44\uff45\uff4d\uff4f", "demo"),  # fullwidth letters (NFKC)
            ("Stra\u00dfe", "STRASSE"),  # ß casefolds to ss
            ("\u00df", "SS"),
            ("\ufb01nal", "final"),  # the fi ligature (NFKC)
            ("Caf\u00e9", "Cafe\u0301"),  # composed and decomposed é
        ],
    )
    def test_names_clash_after_nfkc_and_casefold(self, first: str, second: str) -> None:
        assert name_key(clean_name(first)) == name_key(clean_name(second))

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("Demo", "Demo 2"),
            ("Demo", "De mo"),  # no further stripping inside
            ("Demo", "Demo."),
            ("Cafe", "Caf\u00e9"),
        ],
    )
    def test_different_names_do_not_clash(self, first: str, second: str) -> None:
        assert name_key(clean_name(first)) != name_key(clean_name(second))

    def test_is_nfkc_then_casefold(self) -> None:
        assert name_key("\uff24\u00dfe") == "dsse"


class TestForbiddenCharacters:
    def test_matches_exactly_categories_cc_zl_zp(self) -> None:
        every = "".join(map(chr, range(0x110000)))
        forbidden = set(_FORBIDDEN.findall(every))
        expected = {char for char in every if unicodedata.category(char) in {"Cc", "Zl", "Zp"}}
        assert forbidden == expected
        assert len(expected) == 67  # 65 controls, U+2028 and U+2029
