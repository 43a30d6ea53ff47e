"""How many names hold each three-character window, as PostgreSQL's ANALYZE estimates it.

Name search on PostgreSQL asks the trigram index only for a query's rarer windows: the
ones most names hold (有限公, 限公司, a big city's name) would hand it tens of thousands
of names, each read from the table to be scored. Migration ``0010_name_windows`` makes
ANALYZE keep the most common windows and their frequencies (up to 1,000 at the default
statistics target); any window not among them is rarer than the least common one listed.

The figures change only when the table is analysed, so each process reads them once
every ``REFRESH`` seconds rather than in every search.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

#: Seconds between two reads of the statistics by one process.
REFRESH = 600.0
STATISTICS = "subject_names_windows"

_READ = text(
    "SELECT e.most_common_elems::text::text[], e.most_common_elem_freqs, c.reltuples "
    "FROM pg_stats_ext_exprs AS e JOIN pg_class AS c ON c.oid = to_regclass('subject_names') "
    "WHERE e.statistics_schemaname = current_schema() AND e.statistics_name = :name"
)


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Estimated names holding a window; all zero before the table was first analysed."""

    listed: dict[str, float] = field(default_factory=dict)
    #: For a window not listed: half the least common listed one, as PostgreSQL's own
    #: estimate for array elements does.
    unlisted: float = 0.0

    def estimate(self, window: str) -> float:
        return self.listed.get(window, self.unlisted)


#: What a store without these statistics (SQLite, or PostgreSQL before its first
#: ANALYZE) has: every window estimated at none, so every one is asked for.
UNKNOWN = WindowCounts()

_cache: weakref.WeakKeyDictionary[Engine, tuple[float, WindowCounts]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def window_counts(session: Session) -> WindowCounts:
    """The counts for the session's database, read again after ``REFRESH`` seconds."""
    engine = session.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
        return UNKNOWN
    now = time.monotonic()
    with _lock:
        held = _cache.get(engine)
    if held is not None and now - held[0] < REFRESH:
        return held[1]
    counts = read_window_counts(session)
    with _lock:
        _cache[engine] = (now, counts)
    return counts


def read_window_counts(session: Session) -> WindowCounts:
    if session.get_bind().dialect.name != "postgresql":
        return UNKNOWN
    row = session.execute(_READ, {"name": STATISTICS}).first()
    if row is None or row[0] is None or row[2] is None or row[2] <= 0:
        return UNKNOWN
    elems: list[str] = row[0]
    # The frequencies list ends with the least and greatest of them and the null share.
    freqs: list[float] = row[1]
    names = float(row[2])
    listed = {elem: freq * names for elem, freq in zip(elems, freqs, strict=False)}
    return WindowCounts(listed, freqs[len(elems)] * names / 2)


def forget_window_counts() -> None:
    """Read the statistics again at the next search (after ANALYZE, in tests)."""
    with _lock:
        _cache.clear()
