"""The SQL spellings of the calendar give the Python calendar's answers on both stores."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Date, Integer, MetaData, Table, select

from bonafides.rules.dates import add_days, add_months
from bonafides.rules.sqlfuncs import months_after
from bonafides.store.db import make_engine

#: Offsets the packaged rules use (terms, caps, windows back), and one across a leap day.
MONTHS = (-36, -24, -12, -1, 0, 1, 12, 13, 24, 36, 48)


def test_months_after_clamps_like_python_for_every_day_of_four_years(db_url: str) -> None:
    days = Table("calendar_days", MetaData(), Column("n", Integer), Column("day", Date))
    first = dt.date(2023, 1, 1)
    every = [first + dt.timedelta(days=n) for n in range(4 * 366)]
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            days.create(conn)
            conn.execute(days.insert(), [{"n": i, "day": d} for i, d in enumerate(every)])
            for months in MONTHS:
                for shift in (0, -1):
                    query = select(days.c.n, months_after(days.c.day, months, shift)).order_by(
                        days.c.n
                    )
                    got = [value for _, value in conn.execute(query)]
                    want = [add_days(add_months(d, months), shift) for d in every]
                    wrong = [(d, g, w) for d, g, w in zip(every, got, want, strict=True) if g != w]
                    assert not wrong, (months, shift, wrong[:5])
            days.drop(conn)
    finally:
        engine.dispose()
