"""Test configuration: the Hypothesis profile, and the time budget of the default run.

The profile comes from ``HYPOTHESIS_PROFILE`` (``dev`` unless set; see
:mod:`tests.profiles`). In ``dev``, the whole suite must finish in two minutes on a
2-core machine, so no single test may take long: a test whose call takes more than
:data:`SLOW_TEST_SECONDS` fails the run, by name, however it went otherwise. The
``ci`` and ``stress`` profiles dig deeper on purpose and are not held to it.

A test that cannot fit that budget whatever its settings (it pays seconds before its
first example) is marked ``deep``: ``dev`` skips it, saying so, and ``ci`` runs it.
"""

from __future__ import annotations

from typing import Final

import pytest

from tests.profiles import current_profile

SLOW_TEST_SECONDS: Final = 5.0
"""The longest a single test's call may take in the ``dev`` profile, coverage on."""

_slow: list[tuple[str, float]] = []


def _guarded() -> bool:
    return current_profile() == "dev"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "deep(reason): too slow for the default run whatever its settings; runs in the ci and "
        "stress profiles only",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _guarded():
        return
    for item in items:
        marker = item.get_closest_marker("deep")
        if marker is not None:
            why = marker.kwargs.get("reason", "too slow for the default run")
            item.add_marker(pytest.mark.skip(reason=f"{why}: runs with HYPOTHESIS_PROFILE=ci"))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.duration > SLOW_TEST_SECONDS and _guarded():
        _slow.append((report.nodeid, report.duration))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _slow and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _slow:
        return
    terminalreporter.section("tests over the time budget", sep="=", red=True, bold=True)
    terminalreporter.line(
        f"In the default profile a test may take at most {SLOW_TEST_SECONDS:g} s, so that the "
        "whole suite runs in two minutes. Give these fewer examples (tests/profiles.py, "
        "scaled) or less work, or move the depth to the ci profile:"
    )
    for nodeid, duration in sorted(_slow, key=lambda slow: -slow[1]):
        terminalreporter.line(f"  {duration:6.2f} s  {nodeid}", red=True)
