"""Test configuration: the Hypothesis profiles.

``dev`` is the default; ``.ci/run`` selects ``ci`` (more examples, derandomized so
a CI run is repeatable); ``stress`` is for a long run by hand:
``HYPOTHESIS_PROFILE=stress python -m pytest``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100)
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
