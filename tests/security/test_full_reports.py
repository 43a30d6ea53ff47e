"""Full credit reports over the API (issue 7.1): the subject's own, an authority's with a
purpose, each draw and read in the subject's access log; nobody else's. Both stores."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import AuditEvent
from tests import factories
from tests.security.world import World, api, record_of


def _bearer(world: World, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.key(name)}"}


def test_full_reports_for_the_subject_and_for_authorities_with_a_purpose(
    world: World, settings: Settings
) -> None:
    firm, other = factories.org(), factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("other", Role.SUBJECT, subject=other)
    world.account("banker", Role.INQUIRER, department="pboc")
    world.account("pending", Role.SUBJECT, subject=firm, bind=False)
    world.penalty(firm)
    world.store(
        record_of(
            "ip.malicious_trademark",
            firm,
            source="cnipa",
            decided=world.today - dt.timedelta(days=20),
        )
    )
    firm_h, other_h, banker_h = (_bearer(world, n) for n in ("firm", "other", "banker"))
    pending_h = _bearer(world, "pending")
    full = {"code": firm.code, "view": "full"}
    with api(settings, world) as client:
        assert client.post("/api/v1/reports", json=full).status_code == 401
        assert client.post("/api/v1/reports", json=full, headers=other_h).status_code == 403
        assert client.post("/api/v1/reports", json=full, headers=pending_h).status_code == 403
        no_purpose = client.post("/api/v1/reports", json=full, headers=banker_h)
        assert no_purpose.status_code == 422, "an authority states its purpose"

        own = client.post("/api/v1/reports", json=full, headers=firm_h)
        assert own.status_code == 201, own.text
        own_id = own.json()["id"]
        body = client.get(f"/api/v1/reports/{own_id}", headers=firm_h).json()["document"]
        assert body["view"] == "full"
        assert body["audience"] == "subject"
        pdf = client.get(f"/api/v1/reports/{own_id}.pdf", headers=firm_h)
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        assert client.get(f"/api/v1/reports/{own_id}.html", headers=firm_h).status_code == 200
        for headers, status in ((other_h, 403), (banker_h, 403), ({}, 401)):
            assert client.get(f"/api/v1/reports/{own_id}", headers=headers).status_code == status

        purpose = "credit line review for loan 2026-17"
        banker = client.post("/api/v1/reports", json={**full, "purpose": purpose}, headers=banker_h)
        assert banker.status_code == 201, banker.text
        banker_id = banker.json()["id"]
        doc = client.get(f"/api/v1/reports/{banker_id}", headers=banker_h).json()["document"]
        assert doc["audience"] == "authority"
        assert client.get(f"/api/v1/reports/{banker_id}", headers=firm_h).status_code == 200
        assert client.get(f"/api/v1/reports/{banker_id}", headers=other_h).status_code == 403

        log = client.get("/api/v1/me/access-log", headers=firm_h).json()["events"]
        reads = [e for e in log if e["tag"] == "access:subject:read"]
        assert any(
            e["purpose"] == purpose and e["department"] == "pboc" and "banker" in e["actor"]
            for e in reads
        ), "the authority's draw and reads are in the subject's access log"
    with world.ctx.sessions() as session:
        issued = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "reports:report:issued")
        ).all()
    assert {e.purpose for e in issued} >= {purpose}
    assert len(issued) == 2, "refused requests issue nothing"
