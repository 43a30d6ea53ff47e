"""Starting Spark, lazily: pyspark is an optional extra (``bonafides[spark]``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MISSING = "the Spark engine needs pyspark: pip install bonafides[spark]"
#: Debian's PostgreSQL JDBC driver (libpostgresql-jdbc-java), put on the driver's classpath.
JDBC_JAR = Path("/usr/share/java/postgresql.jar")
#: For a few thousand rows (tests, a small office), where a plan of many joins costs more
#: to optimise and compile than to run: adaptive execution re-plans after every one of its
#: dozens of stages, whole-stage code generation compiles Java for each, and every shuffle
#: piece is a task. Measured on the rule-set agreement test, these cut the JVM's time for
#: one evaluation about two-fold (benchmarks/RESULTS.md); on large data they cost.
SMALL_DATA = {
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "2",
}


class SparkUnavailableError(RuntimeError):
    """pyspark is not installed; the message says what to install."""


def require() -> None:
    """Raise a clear error before anything imports pyspark on a host without it."""
    try:
        import pyspark  # noqa: F401 - only asking whether it is there
    except ImportError as exc:
        raise SparkUnavailableError(MISSING) from exc


def local_session(
    master: str = "local[2]",
    *,
    app: str = "bonafides",
    partitions: int = 4,
    small: bool = False,
    driver_memory: str | None = None,
) -> SparkSession:
    """A session for one machine (tests, benchmarks, a small office); a cluster's jobs get
    theirs from spark-submit, which sets the master and resources (docs/deployment.md).

    ``partitions`` is the number of pieces each shuffle makes: a few per core for small
    data, where every piece costs a task's overhead. Time is UTC inside Spark, so a
    timestamp read from the store means the same instant; the credit office's zone is
    applied explicitly where a local day is needed. ``small`` tunes the session for a few
    thousand rows (``SMALL_DATA``), overriding ``partitions``. ``driver_memory`` is the
    JVM's heap (``BONAFIDES_SPARK_DRIVER_MEMORY``): in local mode the driver runs the
    tasks too, and Spark's default 1 GB ran out at 400,000 subjects. It applies when this
    call starts the JVM; a session already running keeps the heap it started with.
    """
    require()
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
    )
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    if small:
        for key, value in SMALL_DATA.items():
            builder = builder.config(key, value)
    if JDBC_JAR.exists():
        builder = builder.config("spark.jars", str(JDBC_JAR))
    return builder.getOrCreate()


def job_session(driver_memory: str | None = None) -> SparkSession:
    """The session of a job: the one spark-submit configured (its master, executors and
    jars), one this process already started (tests, a notebook) as it was configured, or
    else a local one on this machine's cores with ``driver_memory`` of heap."""
    require()
    import os

    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.conf.set("spark.sql.session.timeZone", "UTC")
        return active
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        return SparkSession.builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    return local_session("local[*]", partitions=8, driver_memory=driver_memory)
