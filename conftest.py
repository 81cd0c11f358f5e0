"""Hypothesis profiles shared by tests/ and properties/.

* ``ci`` (loaded automatically when CI is set, as hypothesis does) and ``default``: few examples,
  derandomised, no deadline — the whole suite stays within a few minutes on 2 cores;
* ``thorough``: many more examples (``PGVERIFY_PROFILE=thorough pytest``; add ``-m slow`` too).
"""

import os

from hypothesis import HealthCheck, settings

FAST = dict(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("default", **FAST)
settings.register_profile("ci", **FAST, database=None)
settings.register_profile(
    "thorough",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("PGVERIFY_PROFILE", "ci" if os.environ.get("CI") else "default")
)
