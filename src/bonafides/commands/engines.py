"""The ``--engine`` and ``--snapshot`` options of the whole-table commands (``lists
recompute``, ``screen``, ``export``): the store's own SQL, or Spark (issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Engine = Annotated[
    str,
    typer.Option(
        "--engine",
        help="sql (the store's own, the default) or spark (the whole-table work on Spark; "
        "needs bonafides[spark] and Java).",
    ),
]
Snapshot = Annotated[
    Path | None,
    typer.Option(
        "--snapshot",
        help="With --engine spark: write the Parquet snapshot Spark reads here "
        "(default: JDBC on PostgreSQL, a temporary snapshot on SQLite).",
    ),
]


def check_engine(engine: str) -> None:
    """Refuse an unknown engine, and Spark on a host without pyspark, before any work."""
    from bonafides.commands.common import fail

    if engine not in ("sql", "spark"):
        fail(f"--engine must be sql or spark, not {engine!r}")
    if engine == "spark":
        from bonafides.spark.session import SparkUnavailableError, require

        try:
            require()
        except SparkUnavailableError as exc:
            fail(str(exc))
