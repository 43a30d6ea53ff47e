"""Credit commitments on application: the template's text with its legal basis signed by
the subject, the licensing department recording whether it was kept, and a breach
becoming a record that can be objected to like any other. Both stores."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bonafides.catalogue import load_catalogue
from bonafides.catalogue.commitments import BREACH_TYPE, commitment_templates
from bonafides.records import SubjectRef
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import AuditEvent, Commitment, Notification, Record
from bonafides.workflows import commitments, objections
from bonafides.workflows.commitments import Breach, Outcome
from bonafides.workflows.common import ConflictError, ForbiddenError, InvalidError, NotFoundError
from tests import factories
from tests.security.test_portal_pages import _sign_in
from tests.security.world import World, api

FOOD = "food.business_licence"


def test_every_template_names_a_department_a_basis_and_the_breach_type() -> None:
    catalogue = load_catalogue()
    found = commitment_templates(catalogue)
    assert FOOD in found
    for template in found.values():
        assert template.legal_basis
        assert all(basis in template.text for basis in template.legal_basis)
        assert catalogue.department(template.department)
    breach = catalogue.type(BREACH_TYPE)
    assert breach.polarity.value == "negative"
    assert breach.disclosure.value == "public"
    assert breach.no_list is not None


@pytest.fixture
def firm(world: World) -> SubjectRef:
    firm = factories.org(name="甲食品有限公司")
    world.penalty(firm, days_ago=400)
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("mee.clerk", Role.OFFICER, department="mee")
    return firm


def _sign(world: World, **kw: str) -> Commitment:
    digest = commitment_templates(world.ctx.catalogue)[FOOD].digest
    with world.ctx.sessions.begin() as session:
        return commitments.sign(
            session,
            world.services(),
            world.principal(kw.get("who", "firm")),
            licence_type=kw.get("licence_type", FOOD),
            licence_ref=kw.get("ref", "JY-2026-0001"),
            accept_digest=kw.get("digest", digest),
        )


def _record(world: World, who: str, number: int, outcome: Outcome, **kw: object) -> Commitment:
    with world.ctx.sessions.begin() as session:
        return commitments.record_outcome(
            session,
            world.services(),
            world.principal(who),
            number,
            outcome=outcome,
            note="Inspected on site on the 3rd.",
            breach=kw.get("breach"),  # type: ignore[arg-type]
        )


def test_signing_the_template_text(world: World, firm: SubjectRef) -> None:
    template = commitment_templates(world.ctx.catalogue)[FOOD]
    signed = _sign(world)
    assert signed.text == template.text
    assert "国办发〔2020〕42号" in signed.text
    assert (signed.template, signed.department, signed.licence_ref) == (
        FOOD,
        "samr",
        "JY-2026-0001",
    )
    assert signed.due_on is not None
    assert signed.due_on.year == world.today.year + 1
    with world.ctx.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "commitment:commitment:signed")
        ).one()
        notes = list(session.scalars(select(Notification.topic)))
    assert event.hash == signed.audit_hash
    assert notes == ["commitment:signed"]
    with pytest.raises(ConflictError, match="changed"):
        _sign(world, digest="0" * 64)
    with pytest.raises(InvalidError, match="no commitment template"):
        _sign(world, licence_type="nothing.here")
    with pytest.raises(ForbiddenError):
        _sign(world, who="clerk")


def test_kept_once_by_the_licensing_department(world: World, firm: SubjectRef) -> None:
    signed = _sign(world)
    with pytest.raises(NotFoundError):
        _record(world, "mee.clerk", signed.id, Outcome.KEPT)
    with pytest.raises(ForbiddenError):
        _record(world, "firm", signed.id, Outcome.KEPT)
    kept = _record(world, "clerk", signed.id, Outcome.KEPT)
    assert (kept.outcome, kept.record_id) == ("kept", None)
    with pytest.raises(ConflictError):
        _record(world, "clerk", signed.id, Outcome.BREACHED)


def test_a_breach_becomes_a_record_with_due_process(world: World, firm: SubjectRef) -> None:
    signed = _sign(world)
    with pytest.raises(InvalidError, match="decision number"):
        _record(world, "clerk", signed.id, Outcome.BREACHED)
    finding = Breach("市监承诺〔2026〕7号", "The premises had no cold store on inspection.")
    done = _record(world, "clerk", signed.id, Outcome.BREACHED, breach=finding)
    assert done.record_id is not None
    record = world.record(done.record_id)
    assert (record.type_code, record.source, record.decision_no) == (
        BREACH_TYPE,
        "samr",
        finding.decision_no,
    )
    assert record.content["commitment_no"] == str(signed.id)
    assert "国办发〔2020〕42号" in (record.legal_basis or "")
    with api(world.ctx.settings, world) as client:
        public = client.get(f"/api/v1/subjects/{firm.code}").json()
    assert BREACH_TYPE in {r["type"] for r in public["records"]}, "published like any decision"
    with world.ctx.sessions.begin() as session:
        opened = objections.open_objection(
            session,
            world.services(),
            world.principal("firm"),
            record_id=done.record_id,
            grounds="The cold store was installed before the inspection.",
        )
    assert opened.source == "samr"


def test_commitments_over_http(world: World, settings: Settings, firm: SubjectRef) -> None:
    with api(settings, world) as client:
        templates = client.get("/api/v1/commitments/templates").json()
        food = next(t for t in templates if t["licence_type"] == FOOD)
        firm_h = {"Authorization": f"Bearer {world.key('firm')}"}
        clerk_h = {"Authorization": f"Bearer {world.key('clerk')}"}
        body = {"licence_type": FOOD, "licence_ref": "JY-2026-0002", "digest": food["digest"]}
        signed = client.post("/api/v1/commitments", headers=firm_h, json=body)
        assert signed.status_code == 201, signed.text
        number = signed.json()["id"]
        assert [c["id"] for c in client.get("/api/v1/commitments", headers=clerk_h).json()] == [
            number
        ]
        breach = {"outcome": "breached", "note": "Found on inspection."}
        assert (
            client.post(
                f"/api/v1/commitments/{number}/outcome", headers=clerk_h, json=breach
            ).status_code
            == 422
        )
        done = client.post(
            f"/api/v1/commitments/{number}/outcome",
            headers=clerk_h,
            json={
                **breach,
                "decision_no": "市监承诺〔2026〕8号",
                "facts": "No cold store on site.",
            },
        )
        assert done.status_code == 200, done.text
        assert done.json()["record_id"]
        mine = client.get("/api/v1/commitments", headers=firm_h).json()
    assert mine[0]["outcome"] == "breached"
    with world.ctx.sessions() as session:
        assert session.scalar(
            select(Record.type_code).where(Record.id == mine[0]["record_id"])
        ) == (BREACH_TYPE)


def test_a_template_naming_an_unknown_department_stops_the_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bonafides.catalogue import CatalogueError
    from bonafides.catalogue import commitments as module

    good = module.commitment_templates(load_catalogue())[FOOD]
    stray = good.model_copy(update={"code": "food.other", "department": "nobody"})
    monkeypatch.setattr(module, "_templates", lambda: (good, stray))
    with pytest.raises(CatalogueError, match=r"food\.other: unknown department 'nobody'"):
        module.commitment_templates(load_catalogue())


def test_commitments_in_the_portal(world: World, settings: Settings, firm: SubjectRef) -> None:
    template = commitment_templates(world.ctx.catalogue)[FOOD]
    with api(settings, world) as client:
        csrf = _sign_in(client, "firm")
        page = client.get("/commitments")
        assert page.status_code == 200
        assert template.text_zh[:20] in page.text
        assert template.digest in page.text
        form = {"csrf": csrf, "licence_type": FOOD, "digest": template.digest}
        short = client.post("/commitments", data={**form, "licence_ref": "x"})
        assert short.status_code == 422
        assert 'role="alert"' in short.text
        signed = client.post(
            "/commitments", data={**form, "licence_ref": "JY-2026-0003"}, follow_redirects=False
        )
        assert signed.status_code == 303, signed.text
        assert "JY-2026-0003" in client.get("/commitments").text
        with world.ctx.sessions() as session:
            number = session.scalars(select(Commitment.id)).one()

        client.cookies.clear()
        clerk = _sign_in(client, "clerk")
        assert f'action="/commitments/{number}/outcome"' in client.get("/commitments").text
        breach = {"csrf": clerk, "outcome": "breached", "note": "Found on inspection."}
        missing = client.post(f"/commitments/{number}/outcome", data=breach)
        assert missing.status_code == 422
        done = client.post(
            f"/commitments/{number}/outcome",
            data={
                **breach,
                "decision_no": "市监承诺〔2026〕9号",
                "facts": "No cold store on site.",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        assert f'action="/commitments/{number}/outcome"' not in client.get("/commitments").text
