"""A correction or repair decided through due process outlives a stale resubmission.

The department's original file, sent again after an objection corrected the record (or
a repair ended its publication), must not silently put the old values back: the row is
held and reported, the department's officers are told, and only a row that names the
case amends the record. Both stores, through the ingest service and the API.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bonafides.app.ingest import ingest_file
from bonafides.catalogue import load_catalogue
from bonafides.ingest.service import IngestReport
from bonafides.records import RecordStatus, SubjectRef
from bonafides.security.roles import Role
from bonafides.store.tables import Account, Notification, Record, RecordVersion
from bonafides.workflows import attachments, objections, repair
from bonafides.workflows.objections import ObjectionOutcome
from tests import factories
from tests.security.world import World, api, cheap_passwords, ctx, settings, world

__all__ = ["cheap_passwords", "ctx", "settings", "world"]

PENALTY = load_catalogue().type("market.penalty")
FINE = PENALTY.content_field("fine_amount_10k_yuan").column_zh
NUMBER = PENALTY.content_field("decision_no").column_zh
SAMR_KEY = "samr-key-0123456789abcdef"
RECEIPT = attachments.Upload("paid.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
COMMITMENT = "本单位承诺依法诚信经营，按时履行行政处罚决定，如有违反愿承担相应责任。"


@pytest.fixture
def firm(world: World) -> SubjectRef:
    subject = factories.org()
    world.account("firm", Role.SUBJECT, subject=subject)
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("ops", Role.OPERATOR)
    return subject


def _row(world: World, firm: SubjectRef, *, days_ago: int = 30, **kw: str) -> dict[str, str]:
    return factories.content_row(
        PENALTY,
        firm,
        decision_date=world.today - dt.timedelta(days=days_ago),
        fine_amount_10k_yuan=kw.pop("fine", "1000.5"),
        severity="general",
        **kw,
    )


def _file(path: Path, rows: list[dict[str, str]]) -> Path:
    header = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _ingest(world: World, path: Path) -> IngestReport:
    return ingest_file(
        world.ctx, path, type_code=PENALTY.code, source="samr", actor="t", today=world.today
    )


def _record(world: World, decision_no: str) -> Record:
    with world.ctx.sessions() as session:
        found = session.scalars(select(Record).where(Record.decision_no == decision_no)).one()
        session.expunge(found)
        return found


def _correct(world: World, record_id: int, fine: str) -> int:
    with world.ctx.sessions.begin() as session:
        opened = objections.open_objection(
            session,
            world.services(),
            world.principal("firm"),
            record_id=record_id,
            grounds="The fine was set on the wrong turnover figure.",
        )
        objection_id = opened.id
    with world.ctx.sessions.begin() as session:
        objections.decide(
            session,
            world.services(),
            world.principal("clerk"),
            objection_id,
            outcome=ObjectionOutcome.CORRECTED,
            reasons="Recomputed on the audited turnover.",
            corrected={"fine_amount_10k_yuan": fine},
        )
    return objection_id


def _held_notes(world: World) -> list[Notification]:
    with world.ctx.sessions() as session:
        clerk = session.scalar(select(Account.id).where(Account.username == "clerk"))
        return list(
            session.scalars(
                select(Notification).where(
                    Notification.account_id == clerk, Notification.topic == "ingest:held"
                )
            )
        )


def _versions(world: World, record_id: int) -> int:
    with world.ctx.sessions() as session:
        return len(
            session.scalars(
                select(RecordVersion.id).where(RecordVersion.record_id == record_id)
            ).all()
        )


def test_reingest_does_not_undo_a_correction_granted_on_objection(
    world: World, firm: SubjectRef, tmp_path: Path
) -> None:
    row = _row(world, firm)
    original = _file(tmp_path / "penalties.csv", [row])
    assert _ingest(world, original).counts["accepted"] == 1
    record = _record(world, row[NUMBER])
    objection_id = _correct(world, record.id, "500")
    versions = _versions(world, record.id)

    again = _ingest(world, original)
    assert again.counts["held"] == 1, again.counts
    assert again.counts["amended"] == 0
    assert again.exit_code == 1
    (entry,) = again.rejections
    assert entry.row == 2
    assert entry.value == row[NUMBER]
    assert f"corrected on objection {objection_id} on {world.today.isoformat()}" in entry.reason
    assert "not applied" in entry.reason
    kept = _record(world, row[NUMBER])
    assert kept.content["fine_amount_10k_yuan"] == "500"
    assert kept.status == RecordStatus.CORRECTED
    assert _versions(world, record.id) == versions
    (note,) = _held_notes(world)
    assert row[NUMBER] in note.body
    assert f"objection {objection_id}" in note.body

    # The same stale file once more: held again, and nothing written to the record.
    assert _ingest(world, original).counts["held"] == 1
    assert _versions(world, record.id) == versions

    # A reference to another case does not unlock it.
    wrong = _file(tmp_path / "wrong.csv", [{**row, FINE: "700", "amends_case": "objection 999"}])
    refused = _ingest(world, wrong)
    assert refused.counts["held"] == 1
    assert "objection 999" in refused.rejections[0].reason

    # The deliberate way: the row names the case it amends.
    amend = _file(
        tmp_path / "amend.csv",
        [{**row, FINE: "700", "amends_case": f"异议 {objection_id}"}],
    )
    amended = _ingest(world, amend)
    assert amended.counts["amended"] == 1, amended.rejections
    assert amended.exit_code == 0
    after = _record(world, row[NUMBER])
    assert after.content["fine_amount_10k_yuan"] == "700"
    assert after.status == RecordStatus.CORRECTED


def test_reingest_does_not_touch_a_repaired_record(
    world: World, firm: SubjectRef, tmp_path: Path
) -> None:
    row = _row(world, firm, days_ago=120)
    original = _file(tmp_path / "old.csv", [row])
    assert _ingest(world, original).counts["accepted"] == 1
    record = _record(world, row[NUMBER])
    with world.ctx.sessions.begin() as session:
        application = repair.apply(
            session,
            world.services(),
            world.principal("firm"),
            record_id=record.id,
            evidence="The fine was paid and the violation ended; receipt attached.",
            commitment=COMMITMENT,
            uploads=[RECEIPT],
        )
        application_id = application.id
    with world.ctx.sessions.begin() as session:
        repair.decide(
            session,
            world.services(),
            world.principal("clerk"),
            application_id,
            approve=True,
            reasons="Paid.",
        )
    assert _ingest(world, original).counts["unchanged"] == 1, "an identical row is no change"
    assert _held_notes(world) == []

    stale = _file(tmp_path / "stale.csv", [{**row, FINE: "2000"}])
    report = _ingest(world, stale)
    assert report.counts["held"] == 1
    assert f"repaired on credit repair application {application_id}" in report.rejections[0].reason
    kept = _record(world, row[NUMBER])
    assert kept.status == RecordStatus.REPAIRED
    assert kept.content["fine_amount_10k_yuan"] == "1000.5"
    assert len(_held_notes(world)) == 1

    amend = _file(
        tmp_path / "amend.csv", [{**row, FINE: "2000", "更正依据": f"repair {application_id}"}]
    )
    assert _ingest(world, amend).counts["amended"] == 1
    assert _record(world, row[NUMBER]).status == RecordStatus.REPAIRED


def test_api_batch_resubmission_is_held_too(
    world: World, firm: SubjectRef, settings: object, tmp_path: Path
) -> None:
    row = _row(world, firm)
    with api(settings, world) as client:  # type: ignore[arg-type]
        _api_resubmission(world, firm, client, row)


def _api_resubmission(
    world: World, firm: SubjectRef, client: TestClient, row: dict[str, str]
) -> None:
    auth = {"Authorization": f"Bearer {SAMR_KEY}"}
    first = client.post(
        "/api/v1/submissions", json={"type": PENALTY.code, "rows": [row]}, headers=auth
    )
    assert first.status_code == 200, first.text
    assert first.json()["summary"]["accepted"] == 1
    record = _record(world, row[NUMBER])
    objection_id = _correct(world, record.id, "500")

    again = client.post(
        "/api/v1/submissions", json={"type": PENALTY.code, "rows": [row]}, headers=auth
    )
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["summary"]["held"] == 1
    assert body["summary"]["amended"] == 0
    (entry,) = body["rejections"]
    assert entry["row"] == 2
    assert f"objection {objection_id}" in entry["reason"]
    assert _record(world, row[NUMBER]).content["fine_amount_10k_yuan"] == "500"
    assert len(_held_notes(world)) == 1
