"""What the evaluators read and write, as plain values.

The Python evaluator takes these and nothing else, so it can run on a subject loaded from
the store, on test data, or on records that were never stored; the SQL evaluator produces
the same ``Entry`` and ``GradeResult`` rows from whole tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bonafides.records import EFFECTIVE_STATUSES, RecordStatus

#: Statuses that end a record on the day they were set; a revoked decision never existed.
ENDING_STATUSES = frozenset({RecordStatus.REPAIRED, RecordStatus.EXPIRED})

#: Why an entry ends when it does, in the order that breaks ties between equal dates.
UNTIL_BASES = ("record_ended", "removed", "unless", "decided", "cap", "term")


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    id: int
    kind: str
    adult_from: dt.date | None = None


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """One decision as the rules see it.

    ``ended_on`` is the day a repaired or expired record stopped counting (None otherwise);
    a record that ended still starts the entries it always did, and they end that day.
    ``retained_until`` is the last day it is kept (``disclosure.retained``): no entry rests
    on it after that day, whether or not ``records expire`` has set its status yet.
    """

    id: int
    subject_id: int
    type_code: str
    source: str
    status: str
    decision_date: dt.date
    content: Mapping[str, Any] = field(default_factory=dict)
    severity: str | None = None
    ended_on: dt.date | None = None
    retained_until: dt.date | None = None

    @property
    def counts(self) -> bool:
        return self.status in EFFECTIVE_STATUSES


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    """One stretch of time a subject is on a list, and the records behind it."""

    list_code: str
    line: int
    subject_id: int
    trigger_record_id: int
    valid_from: dt.date
    valid_until: dt.date
    until_basis: str
    record_ids: tuple[int, ...]

    def in_force(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_until

    @property
    def record_ids_text(self) -> str:
        return ",".join(str(i) for i in self.record_ids)


@dataclass(frozen=True, slots=True)
class GradeResult:
    scheme: str
    subject_id: int
    grade: str
    as_of: dt.date
    line: int
    record_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class VersionFacts:
    version: int
    status: str
    changed_at: dt.datetime


def ended_on(status: str, versions: Iterable[VersionFacts], zone: ZoneInfo) -> dt.date | None:
    """The local day a repaired or expired record stopped counting.

    That is the first change into an ending status after the last version in which the
    record still counted. ``rules.compile`` computes the same from ``record_versions``.
    """
    if status not in ENDING_STATUSES:
        return None
    rows = list(versions)
    last_counting = max((v.version for v in rows if v.status in EFFECTIVE_STATUSES), default=0)
    ends = [v.changed_at for v in rows if v.status in ENDING_STATUSES and v.version > last_counting]
    if not ends:
        return None
    return min(ends).astimezone(zone).date()


def parse_ids(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)
