"""Reads on the event loop give exactly what the session path gives, on both stores."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from bonafides.disclosure import Audience
from bonafides.records import RecordStatus
from bonafides.rules.records import write_records
from bonafides.security.identifiers import IdentifierVault
from bonafides.store import profiles
from bonafides.store.db import make_engine, session_factory
from bonafides.store.profiles import RecordView, SubjectRow, load_profile, profile_from_rows
from bonafides.store.reads import PING, PostgresReader, Read, Row, ThreadReader, reader_for
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import SubjectName
from tests import factories
from tests.store.seed import seed_reference_data

KEYS = SubjectKeys(IdentifierVault("test-secret"))
TODAY = dt.date(2025, 9, 1)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    with session_factory(engine, factories.audit_anchor().info()).begin() as session:
        seed_reference_data(session)
    yield engine
    engine.dispose()


def _fetch(engine: Engine, read: Read) -> list[Row]:
    async def run() -> list[Row]:
        reader = reader_for(engine)
        await reader.open()
        try:
            return await reader.fetch(read)
        finally:
            await reader.close()

    return asyncio.run(run())


def test_rows_become_views_by_position() -> None:
    """Rows are tuples; the statements' columns must name the dataclasses' fields in order."""
    columns = [c.key for c in profiles._PROFILE_BY_KEY.selected_columns]
    subject = [f.name for f in dataclasses.fields(SubjectRow)]
    record = [f.name for f in dataclasses.fields(RecordView)]
    assert columns == [*subject, "former_names", *record]
    assert len(subject) == profiles._SUBJECT_FIELDS


def test_reader_matches_the_session_path(engine: Engine) -> None:
    renamed = factories.org(name="杭州新名称有限公司")
    minor = factories.person(birth=dt.date(2012, 5, 1))
    items = [
        factories.penalty(renamed, decision_date=dt.date(2025, 3, 1)),
        factories.penalty(renamed, decision_date=dt.date(2025, 5, 1)),
        factories.penalty(renamed, decision_date=dt.date(2023, 1, 1)),
        factories.penalty(renamed, status=RecordStatus.REVOKED),
        factories.penalty(minor),
        factories.penalty(),
    ]
    sessions = session_factory(engine, factories.audit_anchor().info())
    with sessions.begin() as s:
        write_records(s, KEYS, items, actor="samr")
        subject_id = s.execute(
            text("SELECT id FROM subjects WHERE key = :k"), {"k": renamed.code}
        ).scalar_one()
        for name, lang in [
            ("杭州旧名称有限公司", "zh"),
            ("Hangzhou Old Name Co.", "en"),
            ("杭州更早名称有限公司", "zh"),
        ]:
            s.add(SubjectName(subject_id=subject_id, name=name, lang=lang, current=False))
    codes = [renamed.code, minor.code, items[-1].subject.code, factories.org().code]
    for code in codes:
        key = KEYS.key_for_code(code)
        for audience in (Audience.PUBLIC, Audience.OPERATOR):
            with sessions() as s:
                expected = load_profile(s, KEYS, code, audience=audience, today=TODAY)
            found = profile_from_rows(
                _fetch(engine, profiles.profile_read(key)), audience=audience, today=TODAY
            )
            if expected is None:
                assert found is None
                continue
            assert found is not None
            assert found[1] == expected
    with sessions() as s:
        renamed_profile = load_profile(s, KEYS, renamed.code, audience=Audience.PUBLIC, today=TODAY)
    assert renamed_profile is not None
    assert renamed_profile.former_names == ["杭州旧名称有限公司", "杭州更早名称有限公司"]
    assert [r.decision_date for r in renamed_profile.records][:2] == [
        dt.date(2025, 5, 1),
        dt.date(2025, 3, 1),
    ]


def test_the_reader_fits_the_store(engine: Engine) -> None:
    reader = reader_for(engine)
    kind = PostgresReader if engine.dialect.name == "postgresql" else ThreadReader
    assert isinstance(reader, kind)
    assert _fetch(engine, Read(PING, {})) == [(1,)]
