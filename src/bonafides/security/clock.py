"""The clock behind every deadline and expiry, as an interface.

Sessions expire, keys lapse and objections fall due by it; tests hand services a clock
they can move instead of waiting or patching the standard library.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from bonafides.store.types import utcnow


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return utcnow()


@dataclass
class FixedClock:
    """A clock that stands still until told to move: deadlines become testable in a line."""

    at: dt.datetime = field(default_factory=utcnow)

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


def office_day(clock: Clock, zone: str) -> dt.date:
    """Deadlines count in the credit office's days, not the server's."""
    return clock.now().astimezone(ZoneInfo(zone)).date()
