"""Deterministic synthetic subjects and the decisions about them, for demos and scale tests.

``generate(subjects, seed, catalogue=..., today=...)`` yields the same data for the same
(subjects, seed, today) on every machine: every random draw comes from ``random.Random``
streams seeded from ``seed``, and nothing iterates a set or reads the clock. Each record
comes twice: ``row``, the decision as a department's export carries it (messy spellings
included), and ``record``, the same decision normalised as ingest would store it, with the
status, publication and retention dates the catalogue's rules give it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from random import Random

from bonafides.catalogue import Catalogue
from bonafides.codes import make_resident_id, mask_id
from bonafides.normalise import EMPTY_MARKERS
from bonafides.records import RecordInput, SubjectRef
from bonafides.synth.blocks import (
    BLOCK_SIZE,
    DrawnRecord,
    DrawnSubject,
    Shared,
    block_count,
    draw_block,
)
from bonafides.synth.departments import Numbering
from bonafides.synth.spelling import fullwidth
from bonafides.synth.world import World, add_months

__all__ = ["Sequencer", "SyntheticRecord", "SyntheticSubject", "generate"]


@dataclass(frozen=True, slots=True)
class SyntheticRecord:
    #: The decision as a department's export carries it: the catalogue's English field
    #: names to the strings as exported (dates as 2021/5/6, 无 for empty, 1,234.50 ...).
    row: dict[str, str]
    #: The same decision normalised and ready to store.
    record: RecordInput


@dataclass(frozen=True, slots=True)
class SyntheticSubject:
    ref: SubjectRef
    #: Earlier names and the date each stopped being used, oldest first.
    former_names: tuple[tuple[str, dt.date], ...]
    #: GB/T 4754 section letter for organisations; None for persons.
    industry: str | None
    records: tuple[SyntheticRecord, ...]


class Sequencer:
    """Settles, in subject order, what must be unique across blocks.

    Decision numbers come from per-(department, year) counters, and a resident ID number
    that an earlier block already issued (two people of one county born on one day with
    the same sequence digits: about one in a million subjects) is moved to the next free
    sequence number, everywhere the subject's rows show it. The file writer uses the same
    two steps on its compact rows, so files and ``generate`` agree.
    """

    def __init__(self, seed: int) -> None:
        self.numbering = Numbering(Random(f"bonafides-synth:{seed}:numbers"))  # noqa: S311
        self.issued: set[str] = set()

    def number(self, head: str) -> str:
        return self.numbering.number(head)

    def person_code(self, code: str) -> str:
        """``code`` if no earlier subject holds it, else the next free one; either way
        it is now taken."""
        if code in self.issued:
            birth = dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
            seq = int(code[14:17])
            while code in self.issued:
                seq = (seq + 2) % 1000
                code = make_resident_id(code[:6], birth, seq)
        self.issued.add(code)
        return code

    @staticmethod
    def swaps(old: str, new: str) -> dict[str, str]:
        """Every spelling of the old code a row or content may hold, to the new one's."""
        return {old: new, fullwidth(old): fullwidth(new), mask_id(old): mask_id(new)}

    def settle(self, drawn: DrawnSubject) -> None:
        draft = drawn.draft
        if draft.birth is not None:
            old = draft.ref.code
            new = self.person_code(old)
            if new != old:
                _recode(drawn, self.swaps(old, new))
        for record in drawn.records:
            number = self.number(record.head)
            record.decision_no = number
            record.row["decision_no"] = number
            record.content["decision_no"] = number


def _recode(drawn: DrawnSubject, swaps: dict[str, str]) -> None:
    draft = drawn.draft
    draft.ref = dataclasses.replace(draft.ref, code=swaps[draft.ref.code])
    for record in drawn.records:
        record.ref = dataclasses.replace(record.ref, code=draft.ref.code)
        for cells in (record.row, record.content):
            for key, value in cells.items():
                if isinstance(value, str) and value in swaps:
                    cells[key] = swaps[value]


def _raw(record: DrawnRecord) -> dict[str, str]:
    """The submitted cells as the store keeps them: empty ones dropped, as ingest does, and
    ID numbers masked; ingest seals them with the platform's key, which the generator does
    not hold, so the clear number never reaches ``raw``."""
    sensitive = record.info.sensitive
    return {
        name: (mask_id(value) if name in sensitive else value)
        for name, value in record.row.items()
        if value.strip() not in EMPTY_MARKERS
    }


def _record(record: DrawnRecord) -> SyntheticRecord:
    info = record.info
    rtype = info.rtype
    content = record.content
    return SyntheticRecord(
        row=record.row,
        record=RecordInput(
            type_code=rtype.code,
            source=record.dept.code,
            decision_no=record.decision_no,
            decision_date=record.decided,
            subject=record.ref,
            content=content,
            raw=_raw(record),
            severity=record.severity,
            legal_basis=str(content.get("legal_basis") or info.legal_basis or "") or None,
            status=record.status,
            published_until=record.published_until,
            retention_until=add_months(record.decided, rtype.retention_months),
            received_at=record.received_at,
            shared_decision_no=rtype.shared_decision_no,
        ),
    )


def _subject(drawn: DrawnSubject) -> SyntheticSubject:
    draft = drawn.draft
    return SyntheticSubject(
        ref=draft.ref,
        former_names=tuple((name, until) for name, _, until in draft.former),
        industry=draft.industry,
        records=tuple(_record(r) for r in drawn.records),
    )


def generate(
    subjects: int, seed: int, *, catalogue: Catalogue, today: dt.date
) -> Iterator[SyntheticSubject]:
    """``subjects`` synthetic subjects with their records, the same for the same arguments.

    Subjects come one at a time (drawn a block at a time), so a caller can stream millions
    of them to disk or to a store in bounded memory.
    """
    if subjects < 0:
        raise ValueError("subjects must not be negative")
    shared = Shared.build(World(seed, catalogue, today))
    sequencer = Sequencer(seed)
    for block in range(block_count(subjects)):
        count = min(BLOCK_SIZE, subjects - block * BLOCK_SIZE)
        for drawn in draw_block(shared, block, count):
            sequencer.settle(drawn)
            yield _subject(drawn)
