"""The workflows over HTTP: repair with its refusal date, complaints with the informant
shown to the department only, objections listed as overdue for operators."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bonafides.catalogue import Period
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import AuditEvent
from bonafides.workdays import package_years
from tests import factories
from tests.security.world import World, api

COMMITMENT = "本单位承诺依法诚信经营，按时履行行政处罚决定，如有违反愿承担相应责任。"


def test_repair_over_http(world: World, settings: Settings) -> None:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    recent = world.penalty(firm, days_ago=5)
    old = world.penalty(firm, days_ago=150)
    with api(settings, world) as client:
        firm_h = {"Authorization": f"Bearer {world.key('firm')}"}
        clerk_h = {"Authorization": f"Bearer {world.key('clerk')}"}
        verdict = client.get(f"/api/v1/repairs/eligibility/{recent}", headers=firm_h).json()
        possible = Period(months=3).add_to(world.record(recent).decision_date)
        assert verdict["eligible"] is False
        assert verdict["possible_from"] == possible.isoformat()
        form = {
            "evidence": "Fine paid in full on the 3rd, receipt attached.",
            "commitment": COMMITMENT,
        }
        files = [("files", ("receipt.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))]
        early = client.post(
            "/api/v1/repairs", headers=firm_h, data={**form, "record_id": str(recent)}, files=files
        )
        assert early.status_code == 422
        assert early.headers["content-type"] == "application/problem+json"
        assert possible.isoformat() in early.json()["title"]
        applied = client.post(
            "/api/v1/repairs", headers=firm_h, data={**form, "record_id": str(old)}, files=files
        )
        assert applied.status_code == 201, applied.text
        number = applied.json()["id"]
        assert applied.json()["attachments"][0]["content_type"] == "application/pdf"
        assert client.get("/api/v1/repairs", headers=clerk_h).json()[0]["id"] == number
        decision = {"approve": True, "reasons": "Payment confirmed by the bank."}
        assert (
            client.post(
                f"/api/v1/repairs/{number}/decision", headers=firm_h, json=decision
            ).status_code
            == 403
        )
        done = client.post(f"/api/v1/repairs/{number}/decision", headers=clerk_h, json=decision)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "repaired"
        public = client.get(f"/api/v1/subjects/{firm.code}").json()
        assert [r["id"] for r in public["records"]] == [recent], (
            "the repaired one is no longer published"
        )


def test_complaints_over_http(world: World, settings: Settings) -> None:
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("ops", Role.OPERATOR)
    with api(settings, world) as client:
        filed = client.post(
            "/api/v1/complaints",
            json={
                "kind": "report",
                "text": "Sells counterfeit brand goods from the back room.",
                "about": "北京测试有限公司",
                "type": "market.penalty",
                "informant_name": "李四",
                "informant_contact": "13800000000",
            },
        )
        assert filed.status_code == 201, filed.text
        assert filed.json()["department"] == "samr"
        unroutable = client.post(
            "/api/v1/complaints",
            json={"kind": "report", "text": "Something is wrong somewhere.", "about": "x y"},
        )
        assert unroutable.status_code == 422
        clerk = client.get(
            "/api/v1/complaints", headers={"Authorization": f"Bearer {world.key('clerk')}"}
        ).json()
        ops = client.get(
            "/api/v1/complaints", headers={"Authorization": f"Bearer {world.key('ops')}"}
        ).json()
        assert clerk[0]["informant"] == {"account": None, "name": "李四", "contact": "13800000000"}
        assert ops[0]["informant"] is None
        assert "李四" not in str(ops)
    with world.ctx.sessions() as session:
        reads = session.execute(
            select(AuditEvent.actor, AuditEvent.object_ref, AuditEvent.subject_id).where(
                AuditEvent.tag == "complaint:report:read"
            )
        ).all()
        who = sorted(actor.rsplit(":", 1)[1] for actor, _, _ in reads)
        assert who == ["clerk", "ops"], "each staff listing is a logged read"
        assert {ref for _, ref, _ in reads} == {f"complaint {filed.json()['id']}"}
        assert {sid for _, _, sid in reads} == {None}, "kept out of any subject's access log"


def test_overdue_objections_for_the_operator(world: World, settings: Settings) -> None:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("ops", Role.OPERATOR)
    record = world.penalty(firm)
    with api(settings, world) as client:
        firm_h = {"Authorization": f"Bearer {world.key('firm')}"}
        ops_h = {"Authorization": f"Bearer {world.key('ops')}"}
        opened = client.post(
            "/api/v1/objections",
            headers=firm_h,
            data={"record_id": str(record), "grounds": "This decision concerns another firm."},
        )
        assert opened.status_code == 201, opened.text
        assert (
            client.get("/api/v1/objections", headers=ops_h, params={"overdue": True}).json() == []
        )
        world.clock.advance(days=40)
        late = client.get("/api/v1/objections", headers=ops_h, params={"overdue": True}).json()
        assert [o["id"] for o in late] == [opened.json()["id"]]
        assert dt.date.fromisoformat(late[0]["due_on"]) < world.today


def test_a_deadline_beyond_the_calendar_is_a_503_naming_the_year(
    world: World, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Fifteen working days from 20 December run into a year without a State Council
    notice: the objection is refused with the reason, never counted on a guess."""
    last = max(package_years())
    world.clock.at = dt.datetime(last, 12, 20, 2, 0, tzinfo=dt.UTC)
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    record = world.penalty(firm)
    with api(settings, world) as client:
        firm_h = {"Authorization": f"Bearer {world.key('firm')}"}
        refused = client.post(
            "/api/v1/objections",
            headers=firm_h,
            data={"record_id": str(record), "grounds": "This decision concerns another firm."},
        )
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert f"does not cover {last + 1}" in refused.json()["detail"]
        assert client.get("/api/v1/objections", headers=firm_h).json() == []
    assert f"does not cover {last + 1}" in caplog.text, "the operator sees it in the log"
