"""The shape of the compiled rules: what the agreement tests cannot see (they compare
answers, not how often the store reads the records)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import create_engine

from bonafides.rules.compile import SqlEvaluator
from bonafides.rules.loader import packaged_rules


@pytest.mark.parametrize("url", ["sqlite://", "postgresql+psycopg://"])
def test_lines_selecting_the_same_record_types_read_them_once(url: str) -> None:
    dialect = create_engine(url).dialect
    rules = packaged_rules()
    lines = [line for code in rules.lists for line in rules.lists[code].entry]
    by_types = Counter(rules.types_of(line.match) for line in lines)
    shared = [types for types, n in by_types.items() if n > 1]
    alone = [types for types, n in by_types.items() if n == 1]
    assert shared, "the packaged rules no longer have lines sharing record types"

    sql = str(SqlEvaluator(rules, zone="Asia/Shanghai").entries().compile(dialect=dialect))

    assert len(re.findall(r"\bpass_\d+ AS MATERIALIZED\b", sql)) == len(shared)
    # One read of the records per shared type set, one per line alone on its types.
    assert len(re.findall(r"FROM records AS [pr]\b", sql)) == len(shared) + len(alone)
