"""The state of one record being drawn, shared by the field producers.

Producers of one record must agree with each other (the penalty content states the fine in
the fine column; a licence's validity follows its decision date), so what several of them
need is computed once and kept in ``memo`` for the rest of the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random
from typing import Any

from bonafides.catalogue import RecordType
from bonafides.records import RecordStatus, SubjectRef
from bonafides.synth.departments import DeptInfo
from bonafides.synth.subjects import SubjectDraft


@dataclass(slots=True)
class Draw:
    rng: Random
    today: dt.date
    rtype: RecordType
    domain: str = "general"
    subject: SubjectDraft | None = None
    ref: SubjectRef | None = None
    dept: DeptInfo | None = None
    decided: dt.date = dt.date.min
    decision_no: str = ""
    severity: str | None = None
    published_until: dt.date | None = None
    status: RecordStatus = RecordStatus.ACTIVE
    repaired_on: dt.date | None = None
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def person(self) -> bool:
        return self.subject is not None and self.subject.birth is not None

    def days(self, low: int, high: int) -> int:
        return low + int(self.rng.random() * (high - low + 1))

    def after(self, low: int, high: int, *, cap: bool = True) -> dt.date:
        """A day ``low``..``high`` days after the decision; not after today if ``cap``."""
        day = self.decided + dt.timedelta(days=self.days(low, high))
        return min(day, self.today) if cap else day

    def before(self, low: int, high: int) -> dt.date:
        return self.decided - dt.timedelta(days=self.days(low, high))


#: Gives the clean value of one field for the record being drawn, or None if it does not apply.
Producer = Callable[[Draw], Any]
