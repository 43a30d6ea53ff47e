"""The audit chain's anchor: keyed hashes and signed checkpoints against someone who can
write the database (issue 19, item 1). Both stores, and both kinds of store: one new
(every event keyed) and one older than the key (its first events hashed the old way).

The three attacks of the issue: cut the last events off and rewrite the head; delete
every event and the head; rewrite an event and recompute every later hash without the
key. Each is caught by the platform's own keys and checkpoints, and, when the attacker
also removes the stored checkpoints and moves the keyed mark, by a checkpoint someone
kept outside (a file, or fetched from the API).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bonafides.api.app import create_app
from bonafides.cli import app
from bonafides.context import Context
from bonafides.rules.records import write_records
from bonafides.security import audit
from bonafides.security.anchor import (
    PUBLIC_FIELDS,
    Checkpoint,
    checkpoint_payload,
    signature_ok,
)
from bonafides.security.signing import b64, unb64
from bonafides.settings import Settings, get_settings
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import AuditCheckpoint, AuditEvent, AuditHead, SubjectAccess
from bonafides.store.types import utcnow
from tests import factories
from tests.web.server import running_portal

SECRET = "anchor-test-secret-0123456789"
EVENTS = 70
#: The existing store's events hashed before the key: 1..LEGACY.
LEGACY = 40
EVERY = 10
runner = CliRunner()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        db=db_url,
        secret_key=SECRET,
        data_dir=tmp_path / "var",
        audit_checkpoint_events=EVERY,
        audit_checkpoint_minutes=0,
    )


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    context = Context(settings)
    yield context
    context.close()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI sees the same secret and key directory as ``ctx``."""
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", SECRET)
    monkeypatch.setenv("BONAFIDES_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BONAFIDES_AUDIT_CHECKPOINT_EVENTS", str(EVERY))
    monkeypatch.setenv("BONAFIDES_AUDIT_CHECKPOINT_MINUTES", "0")
    monkeypatch.delenv("BONAFIDES_DEMO", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _legacy_events(ctx: Context, count: int) -> None:
    """Events as a store older than the key holds them: plain SHA-256, and the mark the
    migration sets just past its head."""
    prev = audit.GENESIS
    rows = []
    for n in range(1, count + 1):
        at = utcnow()
        values: dict[str, Any] = {
            "id": n,
            "at": at,
            "actor": "user:clerk",
            "tag": "test:legacy",
            "subject_id": None,
            "object_ref": f"thing {n}",
            "purpose": None,
            "detail": {"n": n},
            "prev_hash": prev,
        }
        values["hash"] = audit.event_hash(
            event_id=n,
            at=at,
            actor="user:clerk",
            tag="test:legacy",
            subject_id=None,
            object_ref=f"thing {n}",
            purpose=None,
            detail={"n": n},
            prev_hash=prev,
            key=None,
        )
        rows.append(values)
        prev = values["hash"]
    with ctx.engine.begin() as conn:
        conn.execute(insert(AuditEvent), rows)
        conn.execute(
            insert(AuditHead).values(id=1, last_id=count, last_hash=prev, keyed_from=count + 1)
        )


def _chain(ctx: Context, kind: str) -> None:
    first = 1
    if kind == "existing":
        _legacy_events(ctx, LEGACY)
        first = LEGACY + 1
    for n in range(first, EVENTS + 1):
        with ctx.sessions.begin() as session:
            audit.append(session, actor="user:clerk", tag="test:event", detail={"n": n})


def _verify(ctx: Context, *kept: Checkpoint) -> audit.ChainReport:
    with ctx.sessions() as session:
        return audit.verify(session, kept)


def _kept(ctx: Context, path: Path) -> Path:
    """A checkpoint of the head as someone outside keeps it: the command's JSON in a file."""
    result = runner.invoke(app, ["audit", "checkpoint", "--db", ctx.settings.db])
    assert result.exit_code == 0, result.output
    path.write_text(result.output, "utf-8")
    return path


def _cli_verify(ctx: Context, *sources: str) -> tuple[int, str]:
    args = ["audit", "verify", "--db", ctx.settings.db]
    for source in sources:
        args += ["--checkpoint", source]
    result = runner.invoke(app, args)
    return result.exit_code, result.output


def _rehash_from(ctx: Context, start: int) -> None:
    """What an attacker without the key can do: recompute every hash from ``start`` on
    the old way, and point the head at the result."""
    with ctx.engine.begin() as conn, Session(bind=conn) as orm:
        events = orm.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        prev = audit.GENESIS
        for event in events:
            if event.id >= start:
                new = audit.hash_of(event, prev, None)
                conn.execute(
                    update(AuditEvent)
                    .where(AuditEvent.id == event.id)
                    .values(prev_hash=prev, hash=new)
                )
                prev = new
            else:
                prev = event.hash
        conn.execute(update(AuditHead).values(last_hash=prev))


def truncate(ctx: Context, cover: bool) -> None:
    """Delete the last 5 events and rewrite the head to the one before them."""
    with ctx.engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.id > EVENTS - 5))
        last = conn.scalar(select(AuditEvent.hash).where(AuditEvent.id == EVENTS - 5))
        conn.execute(update(AuditHead).values(last_id=EVENTS - 5, last_hash=last))
        if cover:
            conn.execute(delete(AuditCheckpoint).where(AuditCheckpoint.event_count > EVENTS - 5))


def wipe(ctx: Context, cover: bool) -> None:
    """Delete every event and the head."""
    with ctx.engine.begin() as conn:
        conn.execute(delete(AuditEvent))
        conn.execute(delete(AuditHead))
        if cover:
            conn.execute(delete(AuditCheckpoint))


def rewrite(ctx: Context, cover: bool) -> None:
    """Alter event 46 and recompute every later hash, which needs no key the old way."""
    with ctx.engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.id == 46).values(actor="mallory"))
    _rehash_from(ctx, 46)
    if cover:
        # The strongest version: no stored checkpoint, and a keyed mark claiming that
        # every event predates the key, so the whole chain checks out the old way.
        with ctx.engine.begin() as conn:
            conn.execute(delete(AuditCheckpoint))
            conn.execute(update(AuditHead).values(keyed_from=EVENTS + 1))
        _rehash_from(ctx, 1)


ATTACKS: dict[str, Callable[[Context, bool], None]] = {
    "truncate": truncate,
    "wipe": wipe,
    "rewrite": rewrite,
}


@pytest.mark.parametrize("kind", ["new", "existing"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_each_attack_is_caught_by_the_platforms_own_key_and_checkpoints(
    ctx: Context, kind: str, attack: str
) -> None:
    _chain(ctx, kind)
    before = _verify(ctx)
    assert before.ok, before
    assert before.keyed_from == (1 if kind == "new" else LEGACY + 1)
    assert before.checkpoints == (7 if kind == "new" else 3)
    ATTACKS[attack](ctx, False)
    after = _verify(ctx)
    assert not after.ok, f"{attack} went unnoticed on the {kind} store"
    if attack == "rewrite":
        # The key catches it at the first keyed event whose hash was recomputed.
        assert after.first_broken == max(46, before.keyed_from)
        assert after.reason == "its content does not match its hash"
    else:
        assert "past the end of the chain" in (after.reason or "")


@pytest.mark.parametrize("kind", ["new", "existing"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_each_attack_covering_its_tracks_is_caught_by_a_checkpoint_kept_in_a_file(
    ctx: Context, env: None, tmp_path: Path, kind: str, attack: str
) -> None:
    _chain(ctx, kind)
    kept = _kept(ctx, tmp_path / "kept.json")
    code, output = _cli_verify(ctx, str(kept))
    assert code == 0, output
    assert f"audit chain intact: {EVENTS} events" in output
    assert f"the latest at event {EVENTS}" in " ".join(output.split())
    ATTACKS[attack](ctx, True)
    code, output = _cli_verify(ctx, str(kept))
    assert code == 1, f"{attack} went unnoticed on the {kind} store: {output}"
    assert "audit chain broken" in output
    expected = {
        "truncate": "past the end of the chain",
        "wipe": "past the end of the chain",
        "rewrite": "was rewritten",
    }[attack]
    assert expected in " ".join(output.split())


def test_a_rewrite_keeping_the_keyed_mark_contradicts_a_kept_checkpoint(
    ctx: Context, env: None, tmp_path: Path
) -> None:
    """Rewritten from an event before the key (an existing store) with the mark left
    alone and the stored checkpoints gone: the kept head hash no longer appears."""
    _chain(ctx, "existing")
    kept = _kept(ctx, tmp_path / "kept.json")
    with ctx.engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.id == 10).values(actor="mallory"))
        conn.execute(delete(AuditCheckpoint))
    _rehash_from(ctx, 10)
    with ctx.sessions() as session:
        kept_checkpoint = Checkpoint.from_json(json.loads(kept.read_text()), "kept")
        report = audit.verify(session, [kept_checkpoint])
    assert not report.ok
    # The key catches the first keyed event; the kept checkpoint would catch the head.
    assert report.first_broken == LEGACY + 1


def test_the_chain_is_checked_against_checkpoints_served_by_the_api(
    settings: Settings, ctx: Context, env: None
) -> None:
    """``--checkpoint URL`` fetches what a served platform publishes (here the same one,
    as a peer or a mirror keeping its copies would serve them)."""
    _chain(ctx, "new")
    serve_env = {
        "BONAFIDES_DB": settings.db,
        "BONAFIDES_SECRET_KEY": SECRET,
        "BONAFIDES_DATA_DIR": str(settings.data_dir),
    }
    with running_portal(serve_env) as url:
        source = f"{url}/api/v1/audit/checkpoints"
        code, output = _cli_verify(ctx, source)
        assert code == 0, output
        # 7 stored, and the same 7 fetched.
        assert "extends 14 signed checkpoints" in " ".join(output.split())
        truncate(ctx, cover=False)
        code, output = _cli_verify(ctx, source)
    assert code == 1, output
    assert "past the end of the chain" in " ".join(output.split())


def test_a_bad_checkpoint_source_is_named() -> None:
    code, output = _cli_verify_plain("--checkpoint", "/no/such/file.json")
    assert code == 2
    assert "/no/such/file.json" in output
    assert "cannot read" in output


def _cli_verify_plain(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", "--db", "sqlite://", *args])
    return result.exit_code, result.output


def test_checkpoints_are_signed_with_the_published_key(
    settings: Settings, ctx: Context, tmp_path: Path
) -> None:
    """A third party needs only the API: the checkpoints and the public key they name."""
    _chain(ctx, "new")
    with TestClient(create_app(settings)) as client:
        published = client.get("/api/v1/audit/checkpoints").json()
        keys = {k["key_id"]: k for k in client.get("/api/v1/keys").json()["keys"]}
    assert [c["event_count"] for c in published["checkpoints"]] == [70, 60, 50, 40, 30, 20, 10]
    for item in published["checkpoints"]:
        public = Ed25519PublicKey.from_public_bytes(
            unb64(keys[item["key_id"]]["public_key_raw_b64"])
        )
        payload = json.dumps(
            {k: item[k] for k in PUBLIC_FIELDS if k not in ("algorithm", "signature")},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        public.verify(unb64(item["signature"]), payload)  # raises if it does not verify
    head = Checkpoint.from_json(published["checkpoints"][0], "published")
    keys_store = ctx.audit_anchor.keys()
    assert signature_ok(keys_store, head)
    # Any field changed, or a signature by another key, and it no longer verifies.
    forged = [
        dataclasses.replace(head, event_count=head.event_count + 1),
        dataclasses.replace(head, head_hash="0" * 64),
        dataclasses.replace(head, keyed_from=2),
        dataclasses.replace(head, at=head.at - dt.timedelta(seconds=1)),
    ]
    other = Ed25519PrivateKey.generate()
    payload = checkpoint_payload(
        event_count=head.event_count,
        head_hash=head.head_hash,
        at=head.at,
        keyed_from=head.keyed_from,
        key_id=head.key_id,
    )
    forged.append(
        Checkpoint(
            head.event_count,
            head.head_hash,
            head.at,
            head.keyed_from,
            head.key_id,
            b64(other.sign(payload)),
        )
    )
    for bad in forged:
        assert not signature_ok(keys_store, bad), bad
        report = _verify(ctx, bad)
        assert not report.ok
        assert "not signed by this platform's key" in (report.reason or "")
    unknown = dataclasses.replace(head, key_id="0" * 16)
    assert not signature_ok(keys_store, unknown)
    report = _verify(ctx, unknown)
    assert report.first_broken == head.event_count
    assert "which this platform does not publish" in (report.reason or "")


def test_a_published_checkpoint_says_nothing_about_anyone(settings: Settings, ctx: Context) -> None:
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    firm, person = factories.org(name="保密测试有限公司"), factories.person(name="李四")
    for _ in range(EVERY):
        with ctx.sessions.begin() as session:
            write_records(
                session,
                ctx.keys,
                [factories.penalty(firm), factories.penalty(person)],
                actor="user:clerk@samr",
            )
    with TestClient(create_app(settings)) as client:
        answer = client.get("/api/v1/audit/checkpoints")
    assert answer.status_code == 200
    body = answer.json()
    assert body["checkpoints"], "appends past the interval write a checkpoint"
    for item in body["checkpoints"]:
        assert tuple(sorted(item)) == tuple(sorted(PUBLIC_FIELDS))
    raw = answer.text
    for secret in (firm.code, firm.name, person.code, person.name, "user:clerk", "samr"):
        assert secret not in raw
    for item in body["checkpoints"]:
        # Numbers are counts of events, strings are hex, a time and base64: no subject id.
        assert set(item) - {"event_count", "keyed_from"} == {
            k for k, v in item.items() if isinstance(v, str)
        }
    # Paging: before= goes back, limit= bounds.
    with TestClient(create_app(settings)) as client:
        older = client.get("/api/v1/audit/checkpoints", params={"before": 10, "limit": 1})
        assert older.status_code == 200
        assert older.json()["checkpoints"] == []
        assert client.get("/api/v1/audit/checkpoints", params={"limit": 0}).status_code == 422


def test_checkpoint_command_signs_the_head_once(ctx: Context, env: None) -> None:
    _chain(ctx, "new")
    with ctx.sessions.begin() as session:
        audit.append(session, actor="user:clerk", tag="test:event")
    first = runner.invoke(app, ["audit", "checkpoint", "--db", ctx.settings.db])
    again = runner.invoke(app, ["audit", "checkpoint", "--db", ctx.settings.db])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["event_count"] == EVENTS + 1
    assert first.output == again.output
    with ctx.sessions() as session:
        counts = session.scalars(
            select(AuditCheckpoint.event_count).order_by(AuditCheckpoint.event_count)
        ).all()
    assert counts == [10, 20, 30, 40, 50, 60, 70, 71]


def test_checkpoint_command_on_an_empty_chain_says_so(ctx: Context, env: None) -> None:
    result = runner.invoke(app, ["audit", "checkpoint", "--db", ctx.settings.db])
    assert result.exit_code == 2
    assert "empty" in result.output


def test_a_checkpoint_is_written_minutes_after_the_last(settings: Settings) -> None:
    timed = settings.model_copy(
        update={"audit_checkpoint_events": 0, "audit_checkpoint_minutes": 5}
    )
    ctx = Context(timed)
    try:
        for _ in range(3):
            with ctx.sessions.begin() as session:
                audit.append(session, actor="user:clerk", tag="test:event")
        with ctx.engine.begin() as conn:
            # Ten minutes pass since the chain began.
            for event_id, at in conn.execute(select(AuditEvent.id, AuditEvent.at)).all():
                conn.execute(
                    update(AuditEvent)
                    .where(AuditEvent.id == event_id)
                    .values(at=at - dt.timedelta(minutes=10))
                )
        _rehash_all_keyed(ctx)
        fresh = Context(timed)
        try:
            with fresh.sessions.begin() as session:
                audit.append(session, actor="user:clerk", tag="test:event")
            with fresh.sessions.begin() as session:
                audit.append(session, actor="user:clerk", tag="test:event")
            with fresh.sessions() as session:
                counts = session.scalars(select(AuditCheckpoint.event_count)).all()
                assert audit.verify(session).ok
        finally:
            fresh.close()
        assert counts == [4], "one checkpoint, with the first event past the interval"
    finally:
        ctx.close()


def _rehash_all_keyed(ctx: Context) -> None:
    """Re-hash with the audit key after a test moved times (as only the key holder can)."""
    key = ctx.audit_anchor.key
    with ctx.engine.begin() as conn:
        prev = audit.GENESIS
        for event in conn.execute(select(AuditEvent).order_by(AuditEvent.id)).all():
            new = audit.event_hash(
                event_id=event.id,
                at=event.at,
                actor=event.actor,
                tag=event.tag,
                subject_id=event.subject_id,
                object_ref=event.object_ref,
                purpose=event.purpose,
                detail=event.detail,
                prev_hash=prev,
                key=key,
            )
            conn.execute(
                update(AuditEvent).where(AuditEvent.id == event.id).values(prev_hash=prev, hash=new)
            )
            prev = new
        conn.execute(update(AuditHead).values(last_hash=prev))


def test_verify_recomputes_each_batch_events_subject_links(ctx: Context) -> None:
    """An amendment links its event to each amended subject; a link removed or added
    directly in the database no longer matches the digest the chained event carries."""
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    firms = [factories.org() for _ in range(3)]
    numbers = [f"京市监罚〔2026〕{900 + n}号" for n in range(3)]
    with ctx.sessions.begin() as session:
        write_records(
            session,
            ctx.keys,
            [factories.penalty(f, decision_no=no) for f, no in zip(firms, numbers, strict=True)],
            actor="samr",
        )
    with ctx.sessions.begin() as session:
        write_records(
            session,
            ctx.keys,
            [
                factories.penalty(f, decision_no=no, fine="9.5")
                for f, no in zip(firms, numbers, strict=True)
            ],
            actor="samr",
            amend_reason="fine corrected",
        )
    with ctx.sessions() as session:
        links = session.execute(select(SubjectAccess.event_id, SubjectAccess.subject_id)).all()
    assert len(links) == 3
    assert len({e for e, _ in links}) == 1
    event_id = links[0][0]
    assert _verify(ctx).ok
    removed = links[1]
    with ctx.engine.begin() as conn:
        conn.execute(
            delete(SubjectAccess).where(
                SubjectAccess.event_id == removed[0], SubjectAccess.subject_id == removed[1]
            )
        )
    report = _verify(ctx)
    assert (report.first_broken, report.reason) == (
        event_id,
        "its subject links do not match its subjects digest",
    )
    with ctx.engine.begin() as conn:
        conn.execute(
            insert(SubjectAccess).values(
                subject_id=removed[1], event_id=removed[0], object_ref=None
            )
        )
    assert _verify(ctx).ok
    with ctx.engine.begin() as conn:
        conn.execute(insert(SubjectAccess).values(subject_id=10**6, event_id=event_id))
    assert _verify(ctx).first_broken == event_id
    with ctx.engine.begin() as conn:
        conn.execute(delete(SubjectAccess).where(SubjectAccess.subject_id == 10**6))
        # A link naming an event that pins no subjects (the first submission's) is caught.
        conn.execute(insert(SubjectAccess).values(subject_id=424242, event_id=1))
    report = _verify(ctx)
    assert (report.first_broken, report.reason) == (
        1,
        "it has subject links its detail does not pin",
    )
    with ctx.engine.begin() as conn:
        conn.execute(delete(SubjectAccess).where(SubjectAccess.event_id == 1))
        conn.execute(insert(SubjectAccess).values(subject_id=7, event_id=event_id + 50))
    report = _verify(ctx)
    assert report.first_broken == event_id + 50
    assert "which is missing" in (report.reason or "")


def test_legacy_hash_is_plain_sha256_and_keyed_hash_needs_the_key() -> None:
    from bonafides.security.anchor import ChainKey

    fields = {
        "event_id": 1,
        "at": utcnow(),
        "actor": "a",
        "tag": "t",
        "subject_id": None,
        "object_ref": None,
        "purpose": None,
        "detail": {},
        "prev_hash": audit.GENESIS,
    }
    plain = audit.event_hash(**fields, key=None)  # type: ignore[arg-type]
    keyed = audit.event_hash(**fields, key=ChainKey("one secret"))  # type: ignore[arg-type]
    other = audit.event_hash(**fields, key=ChainKey("another secret"))  # type: ignore[arg-type]
    assert len({plain, keyed, other}) == 3
    assert len(plain) == len(keyed) == 64
    assert plain == hashlib.sha256(_body(fields).encode()).hexdigest()


def _body(fields: dict[str, object]) -> str:
    from bonafides.records import canonical_json

    at = fields["at"]
    assert isinstance(at, dt.datetime)
    return canonical_json(
        {
            "id": fields["event_id"],
            "at": at.isoformat(timespec="microseconds"),
            "actor": fields["actor"],
            "tag": fields["tag"],
            "subject_id": fields["subject_id"],
            "object": fields["object_ref"],
            "purpose": fields["purpose"],
            "detail": fields["detail"],
            "prev": fields["prev_hash"],
        }
    )


def test_a_session_without_the_audit_key_cannot_append(db_url: str) -> None:
    from bonafides.security.anchor import AuditKeyMissingError
    from bonafides.store.db import make_engine, session_factory

    engine = make_engine(db_url)
    try:
        with session_factory(engine).begin() as session, pytest.raises(AuditKeyMissingError):
            audit.append(session, actor="a", tag="t")
    finally:
        engine.dispose()


def test_migration_marks_an_existing_stores_events_as_hashed_the_old_way(
    db_url: str, tmp_path: Path
) -> None:
    """Downgrade to the store before the key, write events the old way, upgrade: the
    mark lands just past them and the chain verifies, old part and new."""
    from alembic import command

    from bonafides.store.db import alembic_config, make_engine, migrate

    engine = make_engine(db_url)
    ctx = Context(Settings(db=db_url, secret_key=SECRET, data_dir=tmp_path / "var"))
    try:
        command.downgrade(alembic_config(engine), "0013_issued_files")
        try:
            prev = audit.GENESIS
            with engine.begin() as conn:
                for n in (1, 2, 3):
                    at = utcnow()
                    digest = audit.event_hash(
                        event_id=n,
                        at=at,
                        actor="x",
                        tag="old",
                        subject_id=None,
                        object_ref=None,
                        purpose=None,
                        detail={},
                        prev_hash=prev,
                        key=None,
                    )
                    conn.execute(
                        insert(AuditEvent).values(
                            id=n,
                            at=at,
                            actor="x",
                            tag="old",
                            detail={},
                            prev_hash=prev,
                            hash=digest,
                        )
                    )
                    prev = digest
                conn.execute(
                    text("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 3, :h)"),
                    {"h": prev},
                )
        finally:
            migrate(engine)
        with ctx.sessions.begin() as session:
            audit.append(session, actor="user:clerk", tag="new")
        report = _verify(ctx)
        assert report.ok, report
        assert (report.checked, report.keyed_from) == (4, 4)
    finally:
        ctx.close()
        engine.dispose()


GOOD = {
    "type": "bonafides-audit-checkpoint/v1",
    "event_count": 70,
    "head_hash": "ab" * 32,
    "at": "2026-12-06T08:00:00.000000+00:00",
    "keyed_from": 1,
    "key_id": "0123456789abcdef",
    "algorithm": "Ed25519",
    "signature": b64(bytes(64)),
}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"event_count": "70"}, "event_count: expected a whole number"),
        ({"event_count": 0}, "event_count: expected a whole number"),
        ({"head_hash": "AB" * 32}, "head_hash: expected 64 lowercase hex digits"),
        ({"at": "2026-12-06T08:00:00"}, "at: expected an ISO 8601 time with its offset"),
        ({"keyed_from": None}, "keyed_from: expected a whole number"),
        ({"key_id": "xyz"}, "key_id: expected 16 lowercase hex digits"),
        ({"signature": "not base64!"}, "signature: expected 64 bytes in base64"),
        ({"type": "something else"}, "type: expected"),
    ],
)
def test_a_bad_checkpoint_names_its_field(change: dict[str, Any], named: str) -> None:
    from bonafides.security.anchor import CheckpointError, parse_checkpoints

    good = json.dumps({"checkpoints": [GOOD, GOOD]})
    assert len(parse_checkpoints(good, "kept.json")) == 2
    bad = json.dumps({"checkpoints": [GOOD, {**GOOD, **change}]})
    with pytest.raises(CheckpointError) as caught:
        parse_checkpoints(bad, "kept.json")
    assert str(caught.value).startswith("kept.json: checkpoint 2: ")
    assert named in str(caught.value)


def test_checkpoints_are_read_as_served_as_a_list_one_or_per_line() -> None:
    from bonafides.security.anchor import CheckpointError, parse_checkpoints

    one = json.dumps(GOOD)
    assert len(parse_checkpoints(one, "f")) == 1
    assert len(parse_checkpoints(json.dumps([GOOD] * 3), "f")) == 3
    assert len(parse_checkpoints(f"{one}\n{one}\n", "f")) == 2
    for empty in ("[]", '{"checkpoints": []}'):
        with pytest.raises(CheckpointError, match="holds no checkpoint"):
            parse_checkpoints(empty, "f")
    with pytest.raises(CheckpointError, match="not JSON"):
        parse_checkpoints("{nope", "f")
