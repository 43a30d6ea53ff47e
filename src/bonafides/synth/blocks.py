"""Drawing one block of subjects with their records.

Subjects are drawn in blocks of ``BLOCK_SIZE``, each from its own random stream seeded by
(seed, block number), so a block comes out the same whichever process draws it: the file
writer spreads blocks over the machine's cores and still writes the same bytes as a
single process. What must be unique across blocks is settled afterwards, in block order,
by the caller (decision numbers, and the rare resident ID drawn twice).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass, field
from random import Random
from typing import Any, Final

from bonafides.catalogue import Polarity
from bonafides.records import RecordStatus, SubjectRef
from bonafides.synth.departments import DeptInfo
from bonafides.synth.draw import Draw
from bonafides.synth.places import PlaceSampler
from bonafides.synth.subjects import (
    MINOR_MIN_AGE,
    CodeOffsets,
    SubjectDraft,
    SubjectFactory,
    add_years,
)
from bonafides.synth.world import TypeInfo, World, add_months

BLOCK_SIZE: Final = 1000

RISK_RECORDS: Final = (0.8, 1.0, 1.6)
RECORDS_SIGMA: Final = 1.0
MAX_RECORDS: Final = 2000
SEVERITY_WEIGHTS: Final = {"minor": 25.0, "general": 63.0, "serious": 12.0}
#: A troubled subject's extra weight on serious conduct.
RISKY_SERIOUS: Final = 18.0
REVOKED_SHARE: Final = 0.008
REPAIRED_SHARE: Final = 0.3
#: Working days from decision to receipt: most arrive within the 7-day dual-publicity
#: deadline, some late (what the timeliness statistics are for).
LATE_SHARE: Final = 0.08
ALMOST_LATE_SHARE: Final = 0.07
_BEIJING: Final = dt.timedelta(hours=8)
#: Office hours (08:30 to 17:30 Beijing time) as offsets from midnight.
_MINUTES: Final = tuple(dt.timedelta(minutes=8 * 60 + 30 + m) for m in range(9 * 60))


@dataclass(slots=True)
class DrawnRecord:
    """A record complete but for its decision number, which the caller assigns in order."""

    info: TypeInfo
    dept: DeptInfo
    ref: SubjectRef
    decided: dt.date
    severity: str | None
    status: RecordStatus
    published_until: dt.date | None
    received_at: dt.datetime
    row: dict[str, str]
    content: dict[str, Any]
    head: str  # the decision number but for its sequence (浙市监许〔2025〕)
    decision_no: str = ""


@dataclass(slots=True)
class DrawnSubject:
    draft: SubjectDraft
    records: list[DrawnRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Shared:
    """What every block of one data set uses: the world and the code counters' origin."""

    world: World
    places: PlaceSampler
    offsets: CodeOffsets

    @classmethod
    def build(cls, world: World) -> Shared:
        rng = Random(f"bonafides-synth:{world.seed}:codes")  # noqa: S311 - test data
        return cls(world, PlaceSampler(), CodeOffsets.draw(rng))


def block_count(subjects: int) -> int:
    return (subjects + BLOCK_SIZE - 1) // BLOCK_SIZE


class _BlockDrawer:
    def __init__(self, shared: Shared, index: int) -> None:
        world = shared.world
        self.world = world
        self.today = world.today
        self.rng = Random(f"bonafides-synth:{world.seed}:block:{index}")  # noqa: S311
        self.factory = SubjectFactory(
            self.rng,
            world.today,
            world.kinds,
            places=shared.places,
            offsets=shared.offsets,
            first_index=index * BLOCK_SIZE,
        )
        self.draw = Draw(rng=self.rng, today=world.today, rtype=world.types[0].rtype)
        self._today_ordinal = world.today.toordinal()
        self._midnights: dict[int, dt.datetime] = {}

    def _count(self, draft: SubjectDraft) -> int:
        mean = draft.cls.mean_records * RISK_RECORDS[draft.risk] - 0.5
        noise = math.exp(RECORDS_SIGMA * self.rng.gauss(0.0, 1.0) - RECORDS_SIGMA**2 / 2)
        return min(MAX_RECORDS, 1 + int(mean * noise))

    def _date(self, info: TypeInfo, lower: dt.date) -> dt.date:
        """Skewed to recent years: credit data grows year on year."""
        start = max(info.earliest, lower)
        span = (self.today - start).days
        if span <= 0:
            return self.today
        return start + dt.timedelta(days=int(span * math.sqrt(self.rng.random())))

    def _severity(self, draft: SubjectDraft) -> str:
        roll = self.rng.random() * (100.0 + (RISKY_SERIOUS if draft.risk == 2 else 0.0))
        if roll < SEVERITY_WEIGHTS["minor"]:
            return "minor"
        if roll < SEVERITY_WEIGHTS["minor"] + SEVERITY_WEIGHTS["general"]:
            return "general"
        return "serious"

    def _status(self, info: TypeInfo, d: Draw) -> None:
        rng = self.rng
        d.status = RecordStatus.ACTIVE
        d.repaired_on = None
        if rng.random() < REVOKED_SHARE:
            d.status = RecordStatus.REVOKED
            return
        if d.published_until is not None and d.published_until < self.today:
            d.status = RecordStatus.EXPIRED
            return
        if info.repair_months is None or info.rtype.polarity is not Polarity.NEGATIVE:
            return
        months = max(info.repair_months, info.publication[d.severity][0])
        earliest = add_months(d.decided, months)
        if earliest <= self.today and rng.random() < REPAIRED_SHARE:
            d.status = RecordStatus.REPAIRED
            span = (self.today - earliest).days
            d.repaired_on = earliest + dt.timedelta(days=int(rng.random() * (span + 1)))

    def _received(self, decided: dt.date) -> dt.datetime:
        rng = self.rng
        roll = rng.random()
        if roll < LATE_SHARE:
            lag = 8 + int(rng.random() * 53)
        elif roll < LATE_SHARE + ALMOST_LATE_SHARE:
            lag = 6 + int(rng.random() * 2)
        else:
            lag = 1 + int(rng.random() * 5)
        workdays = self.world.workdays
        index = min(len(workdays) - 1, bisect.bisect_right(workdays, decided.toordinal()) + lag - 1)
        ordinal = min(workdays[index], self._today_ordinal)
        midnight = self._midnights.get(ordinal)
        if midnight is None:
            day = dt.date.fromordinal(ordinal)
            midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - _BEIJING
            self._midnights[ordinal] = midnight
        return midnight + _MINUTES[int(rng.random() * len(_MINUTES))]

    def subject(self) -> DrawnSubject:
        world, rng = self.world, self.rng
        draft = self.factory.draw()
        lower = world.history_start
        if draft.birth is not None:
            lower = max(lower, add_years(draft.birth, MINOR_MIN_AGE if draft.minor else 18))
        table = world.tables[(draft.ref.kind, draft.minor, draft.risk)]
        picks = []
        for _ in range(self._count(draft)):
            info = table.draw(rng)
            picks.append((self._date(info, lower), info))
        picks.sort(key=lambda pick: pick[0])
        refs: dict[str, SubjectRef] = {}
        drawn = DrawnSubject(draft)
        for decided, info in picks:
            drawn.records.append(self._record(draft, info, decided, refs))
        return drawn

    def _record(
        self, draft: SubjectDraft, info: TypeInfo, decided: dt.date, refs: dict[str, SubjectRef]
    ) -> DrawnRecord:
        rng, d = self.rng, self.draw
        rtype = info.rtype
        dept = self.world.chooser.draw(rng, rtype.code, draft.place.region)
        d.rtype = rtype
        d.subject = draft
        d.ref = draft.ref_on(decided, refs) if draft.former else draft.ref
        d.dept = dept
        d.domain = rtype.field if rtype.field != "general" else dept.domain
        d.decided = decided
        d.decision_no = ""
        d.memo.clear()
        d.severity = self._severity(draft) if rtype.has_severity else None
        months = info.publication[d.severity][1]
        d.published_until = add_months(decided, months) if months > 0 else None
        self._status(info, d)
        row, content = info.rows.make(d, self.world.houses[dept.code], rng)
        return DrawnRecord(
            info=info,
            dept=dept,
            ref=d.ref,
            decided=decided,
            severity=d.severity,
            status=d.status,
            published_until=d.published_until,
            received_at=self._received(decided),
            row=row,
            content=content,
            head=self.world.number_head(info, dept, decided.year, draft.place),
        )


def draw_block(shared: Shared, index: int, count: int) -> list[DrawnSubject]:
    """``count`` subjects of block ``index`` (at most ``BLOCK_SIZE``)."""
    drawer = _BlockDrawer(shared, index)
    return [drawer.subject() for _ in range(count)]
