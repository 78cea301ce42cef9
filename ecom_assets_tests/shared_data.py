"""The real sample data in ``../shared/data``: beside the repository in a developer's tree and in CI, absent
from a plain clone, where the tests that need it skip with one line saying why."""

from pathlib import Path

import pytest

REES46_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "rees46_2019-10-01_head.csv"

needs_rees46_sample = pytest.mark.skipif(
    not REES46_SAMPLE.exists(),
    reason=f"{REES46_SAMPLE} is absent (a plain clone has no ../shared/data)",
)
