"""The spellings of records' JSON: one per value, whichever path encodes it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bonafides.records import canonical_json, stored_json

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(_VALUES)
def test_a_text_is_spelled_as_json_dumps_spells_it(value: Any) -> None:
    """``canonical_json`` and ``stored_json`` take a shortcut for text: the same bytes."""
    assert stored_json(value) == json.dumps(value)
    assert canonical_json(value) == json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    )
