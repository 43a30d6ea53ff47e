"""How hard the fuzz tests try: a bounded budget in ``make test``, more on demand.

``BONAFIDES_FUZZ_EXAMPLES`` sets the examples per property (default 40, a few seconds
each); a longer campaign is ``BONAFIDES_FUZZ_EXAMPLES=5000 pytest tests/fuzz -n 0``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("BONAFIDES_FUZZ_EXAMPLES", "40"))

fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=EXAMPLES <= 40,
)
