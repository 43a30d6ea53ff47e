"""The write path: idempotent, versioned, audited, and never keeping an ID number readable."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bonafides.records import RecordStatus
from bonafides.rules.records import change_status, write_records
from bonafides.security import audit
from bonafides.security.identifiers import IdentifierVault
from bonafides.store.db import make_engine, session_factory
from bonafides.store.records import Outcome, record_key, stored_records
from bonafides.store.subjects import SubjectKeys, find
from bonafides.store.tables import AuditEvent, Record, RecordVersion, Subject, SubjectName
from tests import factories
from tests.store.seed import seed_reference_data

#: Also on PostgreSQL partitioned by subject (migration 0031).
pytestmark = pytest.mark.partitioned

KEYS = SubjectKeys(IdentifierVault("test-secret"))


def _stored_events(s: Session) -> int:
    return s.scalar(select(func.count()).where(AuditEvent.tag == "ingest:records:stored")) or 0


@pytest.fixture
def sessions(db_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    factory = session_factory(engine, factories.audit_anchor(tmp_path / "keys").info())
    with factory.begin() as session:
        seed_reference_data(session)
    yield factory
    engine.dispose()


def test_first_submission_creates_subject_record_version_and_audit(
    sessions: sessionmaker[Session],
) -> None:
    item = factories.penalty()
    with sessions.begin() as s:
        result = write_records(s, KEYS, [item], actor="samr")
    assert [o for o, _ in result.outcomes] == [Outcome.CREATED]
    with sessions() as s:
        record = s.scalars(select(Record)).one()
        assert (record.version, record.status) == (1, "active")
        assert [v.reason for v in record.versions] == ["submitted"]
        assert record.versions[0].raw == item.raw
        subject = s.get(Subject, record.subject_id)
        assert subject is not None
        assert subject.key == item.subject.code
        assert _stored_events(s) == 1
        assert audit.verify(s).ok


def test_resubmission_changes_nothing(sessions: sessionmaker[Session]) -> None:
    items = [factories.penalty() for _ in range(3)]
    with sessions.begin() as s:
        write_records(s, KEYS, items, actor="samr")
    with sessions.begin() as s:
        again = write_records(s, KEYS, items, actor="samr")
    assert again.count(Outcome.UNCHANGED) == 3
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(RecordVersion)) == 3
        assert s.scalar(select(func.count()).select_from(Subject)) == 3
        assert _stored_events(s) == 1


def test_changed_row_becomes_new_version_and_keeps_old(sessions: sessionmaker[Session]) -> None:
    item = factories.penalty(fine="1.5")
    with sessions.begin() as s:
        write_records(s, KEYS, [item], actor="samr")
    changed = dataclasses.replace(item, content={**item.content, "fine_amount_10k_yuan": "2.0"})
    with sessions.begin() as s:
        result = write_records(s, KEYS, [changed], actor="samr")
    assert result.count(Outcome.AMENDED) == 1
    with sessions() as s:
        record = s.scalars(select(Record)).one()
        assert record.version == 2
        assert record.content["fine_amount_10k_yuan"] == "2.0"
        versions = [
            (v.version, v.reason, v.content["fine_amount_10k_yuan"]) for v in record.versions
        ]
        assert versions == [(1, "submitted", "1.5"), (2, "amended by source", "2.0")]


def test_same_decision_twice_in_one_batch_is_applied_in_order(
    sessions: sessionmaker[Session],
) -> None:
    item = factories.penalty(fine="1.0")
    later = dataclasses.replace(item, content={**item.content, "fine_amount_10k_yuan": "3.0"})
    with sessions.begin() as s:
        result = write_records(s, KEYS, [item, item, later], actor="samr")
    assert [o for o, _ in result.outcomes] == [Outcome.CREATED, Outcome.UNCHANGED, Outcome.AMENDED]
    with sessions() as s:
        record = s.scalars(select(Record)).one()
        assert record.version == 2
        assert record.content["fine_amount_10k_yuan"] == "3.0"


def test_revocation_survives_resubmission(sessions: sessionmaker[Session]) -> None:
    item = factories.penalty()
    with sessions.begin() as s:
        write_records(s, KEYS, [item], actor="samr")
    with sessions.begin() as s:
        change_status(
            s,
            source="samr",
            decision_no=item.decision_no,
            status=RecordStatus.REVOKED,
            actor="samr",
            reason="decision withdrawn on review",
        )
    with sessions.begin() as s:
        again = write_records(s, KEYS, [item], actor="samr")
    assert again.count(Outcome.UNCHANGED) == 1
    with sessions() as s:
        record = s.scalars(select(Record)).one()
        assert record.status == "revoked"
        assert [v.status for v in record.versions] == ["active", "revoked"]
        assert audit.verify(s).ok


def test_unknown_record_cannot_change_status(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s, pytest.raises(LookupError, match="no record"):
        change_status(
            s, source="samr", decision_no="nope", status=RecordStatus.REVOKED, actor="x", reason="y"
        )


def test_person_id_is_never_stored_readable(sessions: sessionmaker[Session]) -> None:
    who = factories.person()
    with sessions.begin() as s:
        write_records(s, KEYS, [factories.penalty(who)], actor="samr")
    with sessions() as s:
        subject = s.scalars(select(Subject)).one()
        assert subject.code_display == who.code[:6] + "********" + who.code[-4:]
        assert subject.key.startswith("p:")
        assert who.code not in subject.key
        assert subject.code_cipher is not None
        assert KEYS.vault.decrypt(subject.code_cipher) == who.code
        found = find(s, KEYS, who.code)
        assert found is not None
        assert found.id == subject.id
        dump = s.execute(text("SELECT key, code_display FROM subjects")).all()
        assert who.code not in repr(dump)


def test_names_used_by_departments_become_aliases(sessions: sessionmaker[Session]) -> None:
    first = factories.org(name="甲公司")
    renamed = dataclasses.replace(first, name="乙公司")
    with sessions.begin() as s:
        write_records(s, KEYS, [factories.penalty(first)], actor="samr")
    with sessions.begin() as s:
        write_records(s, KEYS, [factories.penalty(renamed)], actor="samr")
    with sessions() as s:
        names = s.execute(
            select(SubjectName.name, SubjectName.current).where(SubjectName.lang == "zh")
        ).all()
        assert sorted(names) == [("乙公司", False), ("甲公司", True)]
        assert s.scalar(select(func.count()).select_from(Subject)) == 1


def test_audit_chain_names_first_altered_event(sessions: sessionmaker[Session]) -> None:
    for _ in range(4):
        with sessions.begin() as s:
            write_records(s, KEYS, [factories.penalty()], actor="samr")
    with sessions.begin() as s:
        s.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = 3"))
    with sessions() as s:
        report = audit.verify(s)
    assert not report.ok
    assert report.first_broken == 3


def test_audit_chain_notices_removed_tail(sessions: sessionmaker[Session]) -> None:
    for _ in range(3):
        with sessions.begin() as s:
            write_records(s, KEYS, [factories.penalty()], actor="samr")
    with sessions.begin() as s:
        s.execute(text("DELETE FROM audit_events WHERE id = 3"))
    with sessions() as s:
        report = audit.verify(s)
    assert report.first_broken == 3


def test_all_digit_uscc_is_found_as_an_organisation(sessions: sessionmaker[Session]) -> None:
    """A USCC may be 18 digits; looking it up must not treat it as an ID number."""
    digits = factories.org()
    while not digits.code.isdigit():
        digits = factories.org()
    with sessions.begin() as s:
        write_records(s, KEYS, [factories.penalty(digits)], actor="samr")
    with sessions() as s:
        found = find(s, KEYS, digits.code)
        assert found is not None
        assert found.key == digits.code


def test_one_court_case_naming_two_defaulters_keeps_two_records(
    sessions: sessionmaker[Session],
) -> None:
    first, second = factories.org(), factories.person()
    case = "(2025)京0105执1234号"
    items = [
        dataclasses.replace(
            factories.penalty(who, source="spc", decision_no=case),
            type_code="courts.defaulter",
            shared_decision_no=True,
        )
        for who in (first, second)
    ]
    with sessions.begin() as s:
        result = write_records(s, KEYS, items, actor="spc")
    assert [o for o, _ in result.outcomes] == [Outcome.CREATED, Outcome.CREATED]
    with sessions.begin() as s, pytest.raises(LookupError, match="names 2 subjects"):
        change_status(
            s, source="spc", decision_no=case, status=RecordStatus.REVOKED, actor="x", reason="y"
        )
    with sessions.begin() as s:
        record = change_status(
            s,
            source="spc",
            decision_no=case,
            status=RecordStatus.REVOKED,
            actor="spc",
            reason="performed",
            party=KEYS.key_for_code(second.code),
        )
        assert record.status == "revoked"
    with sessions.begin() as s:
        again = write_records(s, KEYS, items, actor="spc")
    assert again.count(Outcome.UNCHANGED) == 2


def test_amending_a_revoked_record_keeps_its_status(sessions: sessionmaker[Session]) -> None:
    item = factories.penalty(fine="1.0")
    with sessions.begin() as s:
        write_records(s, KEYS, [item], actor="samr")
    with sessions.begin() as s:
        change_status(
            s,
            source="samr",
            decision_no=item.decision_no,
            status=RecordStatus.REVOKED,
            actor="samr",
            reason="decision withdrawn on review",
        )
    changed = dataclasses.replace(item, content={**item.content, "fine_amount_10k_yuan": "2.0"})
    with sessions.begin() as s:
        assert write_records(s, KEYS, [changed], actor="samr").count(Outcome.AMENDED) == 1
    with sessions() as s:
        record = s.scalars(select(Record)).one()
        assert (record.status, record.version) == ("revoked", 3)
        assert [(v.status, v.reason) for v in record.versions] == [
            ("active", "submitted"),
            ("revoked", "decision withdrawn on review"),
            ("revoked", "amended by source"),
        ]


def test_times_and_dates_written_in_bulk_compare_like_any_other(
    sessions: sessionmaker[Session],
) -> None:
    """The merge copies staged values into the tables: they must read and filter back as
    values the ORM wrote do (SQLite keeps them as text, so the spelling matters)."""
    at = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    item = factories.penalty()
    with sessions.begin() as s:
        write_records(s, KEYS, [item], actor="samr", received_at=at)
    with sessions() as s:
        record = s.scalars(select(Record).where(Record.received_at == at)).one()
        assert record.decision_date == item.decision_date
        assert record.published_until == item.published_until
        assert s.scalar(select(RecordVersion.changed_at)) == at
        later = at + dt.timedelta(microseconds=1)
        assert s.scalars(select(Record).where(Record.received_at < later)).all() == [record]


def test_a_batch_with_the_stored_records_read_ends_as_one_without(
    sessions: sessionmaker[Session],
) -> None:
    """Rows found unchanged in the records the caller read are not staged; the outcome,
    versions and audit trail are those of the plain merge."""
    items = [factories.penalty(fine="1.0") for _ in range(3)]
    with sessions.begin() as s:
        write_records(s, KEYS, items, actor="samr")
    amended = dataclasses.replace(
        items[1], content={**items[1].content, "fine_amount_10k_yuan": "2.0"}
    )
    twice = dataclasses.replace(
        items[2], content={**items[2].content, "fine_amount_10k_yuan": "4.0"}
    )
    # items[2] changed, then back as stored: both are applied, in order.
    batch = [items[0], amended, twice, items[2], factories.penalty()]
    with sessions.begin() as s:
        known = stored_records(s, [record_key(KEYS, i) for i in batch])
        result = write_records(s, KEYS, batch, actor="samr", stored=known)
    assert [o for o, _ in result.outcomes] == [
        Outcome.UNCHANGED,
        Outcome.AMENDED,
        Outcome.AMENDED,
        Outcome.AMENDED,
        Outcome.CREATED,
    ]
    with sessions() as s:
        ids = s.scalars(select(Record.id).order_by(Record.id)).all()
        assert [rid for _, rid in result.outcomes] == [ids[0], ids[1], ids[2], ids[2], ids[3]]
        versions = s.execute(
            select(RecordVersion.record_id, RecordVersion.version).order_by(RecordVersion.id)
        ).all()
        assert sorted(tuple(v) for v in versions[3:]) == [
            (ids[1], 2),
            (ids[2], 2),
            (ids[2], 3),
            (ids[3], 1),
        ]
        event = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.tag == "ingest:records:stored")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None
        assert (event.detail["unchanged"], event.detail["amended"]) == (1, 3)
        third = s.get(Record, ids[2])
        assert third is not None
        assert third.content["fine_amount_10k_yuan"] == "1.0"


def test_two_writers_creating_one_subject_at_once_both_succeed(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    """The second writer waits on the first's new subject, then uses it: no duplicate
    key error, one subject, both decisions on it, one current name."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time in: there is no race to lose")
    who = factories.org()
    first = sessions()
    first.begin()
    write_records(first, KEYS, [factories.penalty(who)], actor="samr")

    def second() -> list[Outcome]:
        with sessions.begin() as s:
            done = write_records(s, KEYS, [factories.penalty(who, source="spc")], actor="spc")
        return [o for o, _ in done.outcomes]

    with ThreadPoolExecutor(1) as pool:
        outcome = pool.submit(second)
        with sessions() as watch:
            for _ in range(200):
                waiting = watch.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE "
                        "datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                watch.rollback()
                if waiting or outcome.done():
                    break
                time.sleep(0.05)
        assert waiting, "the second writer never waited on the first's new subject"
        first.commit()
        first.close()
        assert outcome.result(timeout=30) == [Outcome.CREATED]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Subject)) == 1
        assert s.scalar(select(func.count()).select_from(Record)) == 2
        names = s.execute(select(SubjectName.name, SubjectName.current)).all()
        assert sorted(names) == sorted([(who.name, True), (who.name_en, True)])


def test_one_batch_naming_a_new_subject_two_ways_keeps_the_first_department_current(
    sessions: sessionmaker[Session],
) -> None:
    who = factories.org(name="甲公司")
    other = dataclasses.replace(who, name="乙公司")
    known = factories.org(name="丙公司")
    with sessions.begin() as s:
        write_records(s, KEYS, [factories.penalty(known)], actor="samr")
    with sessions.begin() as s:
        write_records(
            s,
            KEYS,
            [
                factories.penalty(other, source="spc"),
                factories.penalty(who),
                factories.penalty(dataclasses.replace(known, name="丁公司"), source="spc"),
                factories.penalty(who, source="spc"),
            ],
            actor="samr",
        )
    with sessions() as s:
        names = s.execute(
            select(Subject.name, SubjectName.name, SubjectName.current, SubjectName.source)
            .join(Subject, Subject.id == SubjectName.subject_id)
            .where(SubjectName.lang == "zh")
        ).all()
        assert sorted(names) == [
            ("丙公司", "丁公司", False, "spc"),
            ("丙公司", "丙公司", True, "samr"),
            ("乙公司", "乙公司", True, "spc"),
            ("乙公司", "甲公司", False, "spc"),
        ]


def test_a_batch_finds_its_stored_records_by_their_key_not_by_reading_them_all(
    sessions: sessionmaker[Session], db_url: str
) -> None:
    """On PostgreSQL the merge finds the records a staged batch meets through the
    idempotency key's index: as a plain join it hashed the stage and read every stored
    record, twice a chunk, so a file's chunks grew slower as the store grew."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the planner that chose to read every record is PostgreSQL's")
    with sessions.begin() as s:
        write_records(s, KEYS, [factories.penalty() for _ in range(3000)], actor="samr")
    with sessions.begin() as s:
        s.execute(text("ANALYZE records"))
    batch = [factories.penalty() for _ in range(300)]
    amended = dataclasses.replace(batch[0], content={**batch[0].content, "note": "changed"})
    scanning: list[str] = []
    with sessions.begin() as s:
        conn = s.connection()
        scans = text(
            "SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_xact_user_tables "
            "WHERE relname = 'records' OR relname LIKE 'records\\_p%'"
        )
        seen = [conn.execute(scans).scalar_one()]

        @event.listens_for(conn, "after_cursor_execute")
        def count(*args: Any) -> None:
            statement = args[2]
            if "pg_stat_xact_user_tables" in statement:
                return
            now = conn.execute(scans).scalar_one()
            if now != seen[-1] and "ingest_stage" in statement:
                scanning.append(statement)
            seen.append(now)

        write_records(s, KEYS, [*batch, amended], actor="samr")
        event.remove(conn, "after_cursor_execute", count)
    assert scanning == []
