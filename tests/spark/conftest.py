"""One local Spark session for the whole test run: starting one costs seconds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    pytest.importorskip("pyspark")
    from bonafides.spark.session import local_session

    session = local_session("local[2]", app="bonafides-tests", small=True)
    yield session
    session.stop()
