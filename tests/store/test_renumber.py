"""Upgrading a store whose decision numbers were stored as typed (migration 0015).

Each store is filled by today's ingest with numbers as they were stored before they were
normalised (trimmed only), then taken down to revision 0014 with its data, then
upgraded: numbers take their one spelling, duplicate spellings of one decision are kept
apart and reported, and a resubmission finds the stored record instead of creating a
second one. Both stores.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from bonafides import normalise
from bonafides.app.ingest import ingest_file
from bonafides.catalogue import RecordType, load_catalogue
from bonafides.cli import app
from bonafides.context import Context
from bonafides.ingest.service import IngestReport
from bonafides.records import SubjectRef
from bonafides.security import audit
from bonafides.settings import Settings, get_settings
from bonafides.store.access import access_log
from bonafides.store.db import alembic_config, migrate
from bonafides.store.reference import sync_catalogue
from bonafides.store.renumber import (
    DUPLICATE_TAG,
    RENUMBERED_TAG,
    REVIEW_TAG,
    RenumberError,
    duplicate_number,
    renumber,
)
from bonafides.store.tables import AuditEvent, Record, RecordVersion, ReviewItem
from tests import factories
from tests.ingest.test_hostile_text import TODAY

#: Also on PostgreSQL partitioned by subject (migration 0031).
pytestmark = pytest.mark.partitioned

BEFORE = "0014_audit_anchor"
PENALTY: RecordType = load_catalogue().type("market.penalty")
DEFAULTER: RecordType = load_catalogue().type("courts.defaulter")
NUMBER = PENALTY.content_field("decision_no").column_zh
SECRET = "renumber-secret-key-123"
runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgresql"])
def old_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_admin_url: str | None
) -> Iterator[str]:
    """An empty store at the head: ingest writes the tables of today's schema (the change
    feed, the register); ``OldStore`` takes it down to 0014 once it is filled."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        engine = create_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    if pg_admin_url is None:
        pytest.skip("PostgreSQL is not running here (scripts/postgres.sh starts it)")
    name = f"bonafides_renumber_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def ctx(old_url: str) -> Iterator[Context]:
    context = Context(Settings(db=old_url, secret_key=SECRET, demo=True))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


def _ingest(ctx: Context, path: Path, rtype: RecordType, source: str) -> IngestReport:
    return ingest_file(ctx, path, type_code=rtype.code, source=source, actor="t", today=TODAY)


def _file(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


class OldStore:
    """What ingest stored before decision numbers had one spelling, and what to expect."""

    def __init__(self, ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        org = [factories.org() for _ in range(5)]
        person: SubjectRef = factories.person()
        court_person: SubjectRef = factories.person()
        row = factories.content_row
        self.penalties = [
            row(PENALTY, org[0], decision_no="京市监罚【２０２６】12号"),
            row(PENALTY, org[1], decision_no="京市监罚〔2026〕13号"),
            row(PENALTY, person, decision_no="京市监罚 [2026] 14号"),
            # One decision, stored twice under two spellings, same substance.
            row(PENALTY, org[2], decision_no="京市监罚［２０２６］15号", fine_amount_10k_yuan="2"),
            row(PENALTY, org[2], decision_no="京市监罚[2026]15号", fine_amount_10k_yuan="2"),
            # The spelling already held; a second spelling with other content.
            row(PENALTY, org[3], decision_no="京市监罚〔2026〕16号", fine_amount_10k_yuan="3"),
            row(PENALTY, org[3], decision_no="京市监罚〔２０２６〕16号", fine_amount_10k_yuan="4"),
            # No subject code: kept for entity matching under its number.
            row(PENALTY, org[4], decision_no="京市监罚【２０２６】17号", uscc=""),
            row(PENALTY, org[4], decision_no="京市监罚[2026]17号", uscc=""),
        ]
        # One court case naming two subjects: the party keeps them apart.
        self.defaulters = [
            row(DEFAULTER, org[4], decision_no="（２０２６）京执９３０４号"),
            row(DEFAULTER, court_person, decision_no="（２０２６）京执９３０４号"),
        ]
        with monkeypatch.context() as old:
            # Ingest before issue 13: a decision number was text, trimmed and no more.
            old.setattr(normalise, "decision_number", normalise.text)
            report = _ingest(ctx, _file(tmp_path / "p.jsonl", self.penalties), PENALTY, "samr")
            assert (report.counts["accepted"], report.counts["review"]) == (7, 2), report.counts
            report = _ingest(ctx, _file(tmp_path / "d.jsonl", self.defaulters), DEFAULTER, "spc")
            assert report.counts["accepted"] == 2, report.counts
        # The schema as it was then: what later migrations added goes, the records stay.
        command.downgrade(alembic_config(ctx.engine), BEFORE)
        with ctx.sessions() as session:
            self.ids = list(session.scalars(select(Record.id).order_by(Record.id)))
        assert len(self.ids) == 9
        i = self.ids
        self.expected = {
            i[0]: "京市监罚〔2026〕12号",
            i[1]: "京市监罚〔2026〕13号",
            i[2]: "京市监罚〔2026〕14号",
            i[3]: "京市监罚〔2026〕15号",
            i[4]: duplicate_number("京市监罚〔2026〕15号", i[4]),
            i[5]: "京市监罚〔2026〕16号",
            i[6]: duplicate_number("京市监罚〔2026〕16号", i[6]),
            i[7]: "（2026）京执9304号",
            i[8]: "（2026）京执9304号",
        }
        self.unchanged = {i[1], i[5]}


def _numbers(ctx: Context) -> dict[int, str]:
    with ctx.sessions() as session:
        return dict(session.execute(select(Record.id, Record.decision_no)).all())


def _state(ctx: Context) -> tuple[Any, ...]:
    with ctx.sessions() as session:
        records = session.execute(
            select(Record.id, Record.decision_no, Record.version, Record.content_digest).order_by(
                Record.id
            )
        ).all()
        versions = session.scalar(select(func.count()).select_from(RecordVersion))
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        reviews = session.scalars(select(ReviewItem.decision_no).order_by(ReviewItem.id)).all()
    return records, versions, events, reviews


def test_upgrade_gives_stored_numbers_one_spelling_and_resubmissions_find_them(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = OldStore(ctx, tmp_path, monkeypatch)
    before = _numbers(ctx)
    assert before[old.ids[0]] == "京市监罚【２０２６】12号"

    migrate(ctx.engine, vault=ctx.vault, anchor=ctx.audit_anchor)

    assert _numbers(ctx) == old.expected
    with ctx.sessions() as session:
        for record in session.scalars(select(Record).order_by(Record.id)):
            normalised = old.expected[record.id].split("#")[0]
            assert record.content["decision_no"] == normalised
            assert record.version == (1 if record.id in old.unchanged else 2)
            last = session.scalars(
                select(RecordVersion)
                .where(RecordVersion.record_id == record.id)
                .order_by(RecordVersion.version)
            ).all()[-1]
            # The number as submitted stays in the raw values of the new version.
            column = load_catalogue().type(record.type_code).content_field("decision_no").column_zh
            assert last.raw[column] == before[record.id].strip()
            assert last.content_digest == record.content_digest
        duplicates = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == DUPLICATE_TAG).order_by(AuditEvent.id)
        ).all()
        assert [(e.detail["record"], e.detail["same_as_record"]) for e in duplicates] == [
            (old.ids[4], old.ids[3]),
            (old.ids[6], old.ids[5]),
        ]
        assert [e.detail["same_content"] for e in duplicates] == [True, False]
        assert duplicates[0].detail["stored_as"] == "京市监罚[2026]15号"
        assert duplicates[0].detail["numbered_as"] == old.expected[old.ids[4]]
        summary = session.scalars(select(AuditEvent).where(AuditEvent.tag == RENUMBERED_TAG)).one()
        assert summary.detail["records"] == 7
        assert summary.detail["duplicates"] == 2
        assert summary.detail["digests_kept"] == 0
        reviews = session.scalars(select(AuditEvent).where(AuditEvent.tag == REVIEW_TAG)).one()
        assert reviews.detail == {"review_items": 2, "review_duplicates": 1, "review_left": 0}
        # The subject whose record was renumbered sees it in its access log.
        subject_id = session.get(Record, old.ids[0]).subject_id  # type: ignore[union-attr]
        log = access_log(session, subject_id)
        assert [(e.tag, e.what) for e in log] == [(RENUMBERED_TAG, f"record {old.ids[0]} v2")]
        # One row twice in the queue under two spellings: the later one is the duplicate.
        queue = session.execute(
            select(ReviewItem.id, ReviewItem.decision_no).order_by(ReviewItem.id)
        ).all()
        assert [n for _, n in queue] == [
            "京市监罚〔2026〕17号",
            duplicate_number("京市监罚〔2026〕17号", queue[1][0]),
        ]
        assert audit.verify(session).ok

    # The same files again, through today's ingest: every decision is found, none added.
    # (The two rows without a code are left out: today the register knows their subject by
    # name, so matching would link them; that is tests/ingest/test_matching.py's subject.)
    again = [r for n, r in enumerate(old.penalties) if n not in (6, 7, 8)]
    report = _ingest(ctx, _file(tmp_path / "p2.jsonl", again), PENALTY, "samr")
    assert report.counts["unchanged"] == 6, report.counts
    assert (report.counts["accepted"], report.counts["amended"]) == (0, 0), report.counts
    court_number = DEFAULTER.content_field("decision_no").column_zh
    court = [dict(r, **{court_number: "（2026）京执9304号"}) for r in old.defaulters]
    report = _ingest(ctx, _file(tmp_path / "d2.jsonl", court), DEFAULTER, "spc")
    assert report.counts["unchanged"] == 2, report.counts
    assert _numbers(ctx) == old.expected
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReviewItem)) == 2


def test_renumbering_in_small_batches_gives_the_same_numbers(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Duplicates found across batches: a holder renumbered by an earlier batch, or
    stored in its spelling by a later one, keeps the number all the same."""
    old = OldStore(ctx, tmp_path, monkeypatch)
    with ctx.engine.begin() as conn:
        done = renumber(conn, vault=ctx.vault, anchor=ctx.audit_anchor, batch=2)
    assert (done.records, done.duplicates, done.left) == (7, 2, [])
    assert _numbers(ctx) == old.expected


def test_renumbering_twice_changes_nothing(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    OldStore(ctx, tmp_path, monkeypatch)
    migrate(ctx.engine, vault=ctx.vault, anchor=ctx.audit_anchor)
    after = _state(ctx)

    with ctx.engine.begin() as conn:
        done = renumber(conn, vault=ctx.vault, anchor=ctx.audit_anchor)
    assert not done.changed
    # Down and up again: the downgrade keeps the numbers, the upgrade finds nothing to do.
    command.downgrade(alembic_config(ctx.engine), BEFORE)
    assert _state(ctx) == after
    migrate(ctx.engine, vault=ctx.vault, anchor=ctx.audit_anchor)
    assert _state(ctx) == after


def test_upgrade_without_the_identifier_key_writes_nothing(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Persons' record digests cover their ID numbers: without the key the upgrade stops
    with a reason, and the store is left at 0013 exactly as it was."""
    OldStore(ctx, tmp_path, monkeypatch)
    before = _state(ctx)
    with pytest.raises(RenumberError, match="bonafides init"):
        migrate(ctx.engine)
    assert _state(ctx) == before
    with ctx.engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == BEFORE


def test_bonafides_init_upgrades_and_a_duplicate_is_revoked_by_its_number(
    ctx: Context, old_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's path: `bonafides init` upgrades with the store's key, then the
    duplicate reported for review is revoked by the number it now has."""
    old = OldStore(ctx, tmp_path, monkeypatch)
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", SECRET)
    monkeypatch.setenv("BONAFIDES_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["init", "--db", old_url])
        assert result.exit_code == 0, result.output
        duplicate = old.expected[old.ids[4]]
        args = ["revoke", "--source", "samr", "--decision", duplicate, "--reason", "duplicate"]
        result = runner.invoke(app, [*args, "--db", old_url])
        assert result.exit_code == 0, result.output
    finally:
        get_settings.cache_clear()
    with ctx.sessions() as session:
        statuses = dict(session.execute(select(Record.id, Record.status)).all())
    assert statuses[old.ids[4]] == "revoked"
    assert statuses[old.ids[3]] == "active"


def test_numbers_without_a_fitting_spelling_and_foreign_digests_are_kept(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A number that normalises past the column's width is left as stored and listed; a
    digest that is not ingest's digest of the content is kept, not replaced by a guess."""
    old = OldStore(ctx, tmp_path, monkeypatch)
    long = "㈱" * 100  # NFKC makes each one （株）: 300 characters, past the 128 of the column
    with ctx.engine.begin() as conn:
        conn.execute(update(Record).where(Record.id == old.ids[1]).values(decision_no=long))
        conn.execute(update(Record).where(Record.id == old.ids[0]).values(content_digest="f" * 64))
    with ctx.engine.begin() as conn:
        done = renumber(conn, vault=ctx.vault, anchor=ctx.audit_anchor)
    assert done.left == [old.ids[1]]
    assert done.digests_kept == 1
    numbers = _numbers(ctx)
    assert numbers[old.ids[1]] == long
    assert numbers[old.ids[0]] == old.expected[old.ids[0]]
    with ctx.sessions() as session:
        # Only the columns of revision 0014: the store is not at the head here.
        digest = session.scalar(select(Record.content_digest).where(Record.id == old.ids[0]))
        assert digest == "f" * 64
        summary = session.scalars(select(AuditEvent).where(AuditEvent.tag == RENUMBERED_TAG)).one()
    assert summary.detail["left_records"] == [old.ids[1]]


#: What decision numbers are made of, in every width and bracket form clerks type.
NUMBER_CHARACTERS = st.sampled_from(
    list("0123456789０１２３４５６７８９京执罚监市号第字ABCＺＪ-－()（）[]［］【】〔〕 \u3000#")
)


@given(st.text(NUMBER_CHARACTERS, min_size=1, max_size=40), st.integers(1, 10**12))
def test_renumbered_numbers_are_fixed_points(raw: str, record_id: int) -> None:
    """Why a second run changes nothing: what the upgrade writes, the normalisation keeps."""
    number = normalise.decision_number(raw).value
    assert normalise.decision_number(number).value == number
    marked = duplicate_number(number, record_id)
    assert normalise.decision_number(marked).value == marked
