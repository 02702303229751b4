"""A Griffe extension that lets the API reference read pipekit's reST-flavoured docstrings.

pipekit's docstrings are written for ``help()`` and doctest: they hold bare ``>>>``
examples and Sphinx roles such as :class:`~pipekit.Pipeline`. Markdown reads the first
as nested block quotes and the second as literal text. Before mkdocstrings renders a
docstring, this extension fences each doctest block as ``pycon`` and turns each role into
an optional cross-reference: a link when the target is on the site, plain code when it is
not (a builtin such as :class:`TypeError`, or a private helper).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import griffe

__all__ = ["RestRoles", "to_markdown"]

# A role names its target, or gives a title first: :attr:`Kind.WON <pipekit.Kind.WON>`.
_ROLE: Final = re.compile(
    r":(?:class|func|meth|attr|data|exc|mod|obj):`(?:(?P<title>[^`<]+?)\s*<(?P<link>[^`>]+)>|(?P<target>[^`]+))`"
)
_DOCTEST_FLAG: Final = re.compile(r"\s*#\s*doctest:\s*[^\n]*")


def to_markdown(text: str, resolve: Callable[[str], str]) -> str:
    """Return the docstring *text* as Markdown; *resolve* maps a role's target to a full path."""

    def role(match: re.Match[str]) -> str:
        if match["link"]:
            shown, target = match["title"], match["link"]
        else:
            target = match["target"]
            shown = target.removeprefix("~")
            if target.startswith("~"):
                shown = shown.rsplit(".", 1)[-1]
        identifier = resolve(target.removeprefix("~"))
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    lines: list[str] = []
    fence: str | None = None  # the indentation of the open doctest fence
    in_code = False  # inside a fence the docstring wrote itself
    for line in text.splitlines():
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if fence is not None and not stripped:
            lines.append(f"{fence}```")
            fence = None
        elif fence is None and not in_code and stripped.startswith(">>>"):
            fence = indent
            lines.append(f"{fence}```pycon")
        elif fence is None and stripped.startswith("```"):
            in_code = not in_code
        if fence is not None:
            lines.append(_DOCTEST_FLAG.sub("", line))
        elif in_code or stripped.startswith("```"):
            lines.append(line)
        else:
            lines.append(_ROLE.sub(role, line))
    if fence is not None:
        lines.append(f"{fence}```")
    return "\n".join(lines)


class RestRoles(griffe.Extension):
    """Rewrite every docstring of the package once it is loaded, while names can resolve."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Rewrite the docstrings of *pkg* and of everything it defines."""
        _rewrite(pkg)


def _rewrite(obj: griffe.Object) -> None:
    def resolve(name: str) -> str:
        head, _, rest = name.partition(".")
        try:
            path = obj.resolve(head)
        except griffe.NameResolutionError:
            return name
        return f"{path}.{rest}" if rest else path

    if obj.docstring is not None:
        obj.docstring.value = to_markdown(obj.docstring.value, resolve)
    for member in obj.members.values():
        if not member.is_alias:
            _rewrite(member)  # type: ignore[arg-type]  # not an alias, so an Object
