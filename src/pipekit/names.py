"""Names of stages and pipelines (R7).

A name is stripped of surrounding white space (``str.strip()``); then it must be
non-empty, at most :data:`MAX_NAME_LENGTH` code points long, and free of control
characters (Unicode category Cc: tabs, newlines, NUL...) and line or paragraph
separators (Zl, Zp). Two names clash when their :func:`name_key` values are equal.

>>> from pipekit.names import clean_name, name_key
>>> clean_name("  Demo ")
'Demo'
>>> name_key("Demo") == name_key("DEMO")
True
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from pipekit._checks import require_type
from pipekit.errors import InvalidName

__all__ = ["MAX_NAME_LENGTH", "clean_name", "name_key"]

MAX_NAME_LENGTH: Final = 255
"""The most code points a name may have, after stripping."""

# Categories Cc, Zl and Zp are closed sets in Unicode: C0 and C1 controls, DEL,
# U+2028 and U+2029. A test checks this class against unicodedata.
_FORBIDDEN: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean_name(name: str) -> str:
    """Return *name* stripped, or raise :class:`~pipekit.InvalidName` if it breaks R7.

    A *name* that is not a ``str`` raises :class:`TypeError`.
    """
    stripped = require_type(name, str, "a name").strip()
    if not stripped:
        raise InvalidName(name, "a name cannot be empty or only white space")
    if len(stripped) > MAX_NAME_LENGTH:
        raise InvalidName(
            name, f"a name has at most {MAX_NAME_LENGTH} characters, this one has {len(stripped)}"
        )
    forbidden = _FORBIDDEN.search(stripped)
    if forbidden is not None:
        raise InvalidName(
            name, f"a name cannot hold control or line-break characters (U+{ord(forbidden[0]):04X})"
        )
    return stripped


def name_key(name: str) -> str:
    """Return the key under which *name* clashes with other names.

    Two stripped names clash when ``unicodedata.normalize("NFKC", name).casefold()``
    of both are equal.
    """
    return unicodedata.normalize("NFKC", name).casefold()
