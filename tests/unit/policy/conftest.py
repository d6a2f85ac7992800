"""Each test module here starts with the security core's memo caches empty."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _start_with_empty_memo_caches(cleared_memo_caches: None) -> None:
    """No module is answered from what another module's cases left in a cache."""
