"""The Spark session a job starts on this machine: its heap comes from
``BONAFIDES_SPARK_DRIVER_MEMORY`` (in local mode the driver runs every task, and Spark's
default 1 GB ran out at 400,000 subjects)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from bonafides.settings import Settings

pytestmark = [pytest.mark.spark, pytest.mark.timeout(300)]

#: Started in a process of its own: a JVM's heap is fixed when it starts, and the tests'
#: shared session is already running.
PROBE = """
from bonafides.settings import Settings
from bonafides.spark.session import job_session

spark = job_session(Settings().spark_driver_memory)
print(spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory() // 2**20)
spark.stop()
"""


def _heap_mib(memory: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BONAFIDES_", "PYSPARK_"))}
    env["BONAFIDES_SPARK_DRIVER_MEMORY"] = memory
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1])


def test_the_driver_memory_setting_sizes_the_local_jvm() -> None:
    """One JVM, started with more than Spark's default 1 GB: a heap over it is the
    setting's (a second JVM to show the default cost eight seconds of every run)."""
    pytest.importorskip("pyspark")
    # The JVM reports a little less than -Xmx (one survivor space is not counted).
    assert 1300 < _heap_mib("1536m") <= 1536


@pytest.mark.parametrize("value", ["6 GB", "six", "-1g", "6.5g"])
def test_a_driver_memory_spark_cannot_read_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="spark_driver_memory"):
        Settings(spark_driver_memory=value)
