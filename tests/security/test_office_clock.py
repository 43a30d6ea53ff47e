"""One office clock: no module reads the system's date or time behind its back."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import bonafides
from bonafides.security.clock import FixedClock, office_day

SRC = Path(bonafides.__file__).parent
#: The clock itself, and the UTC timestamp it is built on; the log formatter, which
#: stamps a line with its record's own creation time; and the job worker, whose
#: APScheduler timers run on the machine's clock by nature (each job asks ctx.clock).
ALLOWED = {
    SRC / "security" / "clock.py",
    SRC / "store" / "types.py",
    SRC / "logs.py",
    SRC / "worker.py",
}
#: Calls that read the machine's clock; ``.today()`` and naive ``.now()`` also its zone.
READS_CLOCK = {"today", "now", "utcnow", "fromtimestamp", "utcfromtimestamp"}
DATE_NAMES = {"date", "datetime"}


def _clock_reads(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if node.func.attr in READS_CLOCK and owner_name in DATE_NAMES:
            found.append((node.lineno, f"{owner_name}.{node.func.attr}()"))
        elif node.func.attr in {"time", "localtime", "gmtime"} and owner_name == "time":
            found.append((node.lineno, f"time.{node.func.attr}()"))
    return found


def test_no_module_reads_the_system_clock_outside_the_clock_module() -> None:
    offenders = [
        f"{path.relative_to(SRC.parent)}:{line}: {call}"
        for path in sorted(SRC.rglob("*.py"))
        if path not in ALLOWED
        for line, call in _clock_reads(ast.parse(path.read_text("utf-8")))
    ]
    assert offenders == [], "ask the context's clock (ctx.today(), ctx.clock.now())"


def test_the_scan_sees_the_ways_a_date_is_read() -> None:
    source = (
        "import datetime as dt, time\nfrom datetime import date, datetime\n"
        "dt.date.today()\ndate.today()\ndatetime.now()\ndt.datetime.now(tz)\n"
        "dt.datetime.utcnow()\ntime.time()\ndt.date.fromisoformat('2026-01-01')\n"
    )
    assert [line for line, _ in _clock_reads(ast.parse(source))] == [3, 4, 5, 6, 7, 8]


def test_the_office_day_is_beijings_not_utcs() -> None:
    clock = FixedClock(dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.UTC))
    assert office_day(clock, "Asia/Shanghai") == dt.date(2026, 12, 7)
    assert office_day(clock, "UTC") == dt.date(2026, 12, 6)
