"""The Hypothesis profiles, and the settings of the tests that need their own.

``dev`` is the default, what ``python -m pytest`` runs: the whole suite in two
minutes. ``ci`` (``HYPOTHESIS_PROFILE=ci``, what ``.ci/run`` selects) digs deeper and
is derandomized, so a CI run is repeatable. ``stress`` is for a long run by hand.

Most tests take the profile's ``max_examples``. A test whose examples are expensive
(a state machine, a whole workspace history) says how many it needs in each profile
with :func:`scaled`, rather than a bare number that would be the same in all three.
"""

from __future__ import annotations

import os
from typing import Any, Final

from hypothesis import HealthCheck, settings

__all__ = [
    "COSTLY",
    "EXPENSIVE",
    "LIGHT",
    "MODERATE",
    "PROFILES",
    "current_profile",
    "machine_runs",
    "scaled",
]

PROFILES: Final = ("dev", "ci", "stress")

# No profile has Hypothesis' 200 ms deadline or its too_slow health check: both measure the
# machine as much as pipekit, and on a busy one they failed runs whose every example passed.
# The default run holds each test to its time budget whole instead (tests/conftest.py).
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=400,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "stress", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def current_profile() -> str:
    """The profile loaded: ``dev``, ``ci`` or ``stress`` (or another registered one).

    Hypothesis names a profile it derives for ``--hypothesis-verbosity`` or
    ``--hypothesis-explain`` after its parent (``ci-with-verbose-verbosity``).
    """
    return settings.get_current_profile_name().split("-with-")[0]


def scaled(
    dev: int,
    ci: int,
    stress: int,
    *,
    steps: tuple[int, int, int] | None = None,
    **fixed: Any,
) -> settings:
    """Settings with ``max_examples`` of *dev*, *ci* or *stress*, by the profile loaded.

    *steps* scales a state machine's ``stateful_step_count`` the same way; *fixed*
    holds settings that are the same in every profile (``deadline=None``). A
    profile other than the three takes the *dev* figures.
    """
    index = PROFILES.index(current_profile()) if current_profile() in PROFILES else 0
    chosen: dict[str, Any] = {"max_examples": (dev, ci, stress)[index], **fixed}
    if steps is not None:
        chosen["stateful_step_count"] = steps[index]
    return settings(**chosen)


def machine_runs(
    dev: int, ci: int, stress: int, *, steps: tuple[int, int, int] | None = None
) -> settings:
    """A state machine's settings: *dev*, *ci* or *stress* runs (of *steps* steps each).

    As Hypothesis runs a machine by default, with no deadline and no health check:
    a run of many steps is slow by design, and its time is held to the budget whole.
    """
    return scaled(
        dev, ci, stress, steps=steps, deadline=None, suppress_health_check=list(HealthCheck)
    )


# Properties whose examples are expensive by nature: each grows a workspace through
# many commands, generates a document from a JSON Schema, or plans and applies a
# pipeline. Their generation is slow by design, so neither a deadline nor the
# too_slow health check applies. Measured with coverage on a 2-core machine, and
# sized so that each such test takes about 0.2 s in dev: a hundred of them share
# the default run's budget with everything else, and ci digs deep.
_SLOW: Final = [HealthCheck.too_slow]
EXPENSIVE: Final = scaled(5, 100, 1000, deadline=None, suppress_health_check=_SLOW)
"""50 ms or more an example (a whole workspace history and checks over all of it)."""
COSTLY: Final = scaled(8, 100, 1500, deadline=None, suppress_health_check=_SLOW)
"""25 to 50 ms an example."""
MODERATE: Final = scaled(20, 200, 3000, deadline=None, suppress_health_check=_SLOW)
"""10 to 25 ms an example."""

# Properties whose examples are cheap, but not so cheap that the profile's hundred take
# no time: half as many in dev; as many as the profile gives in ci and stress.
LIGHT: Final = scaled(
    50, settings.get_profile("ci").max_examples, settings.get_profile("stress").max_examples
)
"""2 to 10 ms an example."""
