"""One generated sample shared by the synthetic-data tests (generating it takes seconds)."""

from __future__ import annotations

import datetime as dt

import pytest

from bonafides.catalogue import Catalogue, load_catalogue
from bonafides.synth.generator import SyntheticSubject, generate

TODAY = dt.date(2026, 1, 15)
#: Large enough that every record type, minors, renamed firms and every record status
#: turn up; small enough to generate in a few seconds.
SAMPLE_SUBJECTS = 3000
SAMPLE_SEED = 20260115


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def sample(catalogue: Catalogue) -> list[SyntheticSubject]:
    return list(generate(SAMPLE_SUBJECTS, SAMPLE_SEED, catalogue=catalogue, today=TODAY))
