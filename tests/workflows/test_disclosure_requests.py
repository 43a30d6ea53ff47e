"""Disclosure on application (依申请公开): filed by a company's or person's account, answered
by the department asked within 20 working days, escalated when late, audited, counted per
department, and the same over HTTP. Both stores."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import AuditEvent, DisclosureRequest, Notification
from bonafides.workflows import disclosure_requests as workflow
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
)
from bonafides.workflows.disclosure_requests import DisclosureAsk, Outcome
from tests import factories
from tests.security.test_portal_pages import _sign_in
from tests.security.world import World, api
from tests.workflows.conftest import Inbox

ASKED = "The list of food producers in Chaoyang whose licences were revoked in 2025."
REASON = "Part of the list names natural persons whose privacy the law protects."
PROVISION = "《中华人民共和国政府信息公开条例》第十五条"


@pytest.fixture
def people(world: World) -> None:
    world.account("firm", Role.SUBJECT, subject=factories.org())
    world.account("person", Role.SUBJECT, subject=factories.person(), bind=False)
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("mee.clerk", Role.OFFICER, department="mee")
    world.account("ops", Role.OPERATOR)


def _submit(world: World, who: str, **kw: str) -> DisclosureRequest:
    ask = DisclosureAsk(
        department=kw.get("department", "samr"), asked=kw.get("asked", ASKED), purpose="research"
    )
    with world.ctx.sessions.begin() as session:
        return workflow.submit(session, world.services(), world.principal(who), ask)


def _decide(world: World, who: str, number: int, outcome: Outcome, **kw: str) -> DisclosureRequest:
    with world.ctx.sessions.begin() as session:
        return workflow.decide(
            session,
            world.services(),
            world.principal(who),
            number,
            outcome=outcome,
            answer=kw.get("answer", REASON),
            provision=kw.get("provision"),
        )


def test_the_deadline_is_twenty_working_days(world: World, people: None) -> None:
    filed = _submit(world, "firm")
    # Monday 2026-06-01: four working weeks, with the Dragon Boat holiday (Friday 06-19) in them.
    assert filed.due_on == world.services().deadlines.due(20)
    assert (filed.due_on - world.today).days > 27
    assert filed.status == "open"
    with world.ctx.sessions() as session:
        tags = list(session.scalars(select(AuditEvent.tag)))
        notes = list(session.scalars(select(Notification.title)))
    assert "disclosure:request:submitted" in tags
    assert notes == [f"New disclosure request {filed.id}"], "samr's clerk only"


def test_who_may_apply_and_what_is_refused(world: World, people: None) -> None:
    assert _submit(world, "person").department == "samr", "an unbound person may ask too"
    with pytest.raises(ForbiddenError):
        _submit(world, "clerk")
    with pytest.raises(InvalidError, match="unknown department"):
        _submit(world, "firm", department="nobody")
    with pytest.raises(InvalidError, match="description"):
        _submit(world, "firm", asked="list")


def test_decisions_need_the_department_and_a_provision_to_refuse(
    world: World, people: None
) -> None:
    filed = _submit(world, "firm")
    with pytest.raises(NotFoundError):
        _decide(world, "mee.clerk", filed.id, Outcome.GRANTED)
    with pytest.raises(ForbiddenError):
        _decide(world, "ops", filed.id, Outcome.GRANTED)
    with pytest.raises(InvalidError, match="provision"):
        _decide(world, "clerk", filed.id, Outcome.REFUSED)
    done = _decide(world, "clerk", filed.id, Outcome.PARTLY_GRANTED, provision=PROVISION)
    assert (done.status, done.outcome, done.provision) == ("decided", "partly_granted", PROVISION)
    with pytest.raises(ConflictError):
        _decide(world, "clerk", filed.id, Outcome.GRANTED)
    firm = world.principal("firm")
    with world.ctx.sessions() as session:
        tags = list(session.scalars(select(AuditEvent.tag)))
        mine = list(
            session.scalars(select(Notification).where(Notification.account_id == firm.account_id))
        )
    assert "disclosure:request:partly_granted" in tags
    assert [n.topic for n in mine] == ["disclosure:decided"]
    assert PROVISION in mine[0].body


def test_overdue_applications_escalate_once_and_count_as_late(world: World, people: None) -> None:
    late = _submit(world, "firm")
    quick = _submit(world, "person")
    _decide(world, "clerk", quick.id, Outcome.GRANTED, answer="The list is attached below.")
    services = world.services()
    with world.ctx.sessions.begin() as session:
        assert workflow.escalate(session, services.deadlines, services.notifier, actor="t") == []
    world.clock.advance(days=40)
    later = world.services()
    with world.ctx.sessions.begin() as session:
        done = workflow.escalate(session, later.deadlines, later.notifier, actor="t")
        assert [d.id for d in done] == [late.id]
    with world.ctx.sessions.begin() as session:
        assert workflow.escalate(session, later.deadlines, later.notifier, actor="t") == []
        ops = world.principal("ops")
        titles = list(
            session.scalars(
                select(Notification.title).where(Notification.account_id == ops.account_id)
            )
        )
    assert titles == [f"Disclosure request {late.id} is overdue"]
    _decide(world, "clerk", late.id, Outcome.REFUSED, provision=PROVISION)
    with world.ctx.sessions() as session:
        deadlines = later.deadlines
        (samr,) = workflow.figures(session, deadlines.calendar, deadlines.zone, deadlines.today())
    assert (samr.department, samr.received, samr.decided, samr.decided_in_time) == (
        "samr",
        2,
        2,
        1,
    )
    assert samr.open_overdue == 0
    assert samr.median_days is not None
    assert samr.median_days > 10


def test_disclosure_requests_over_http(world: World, settings: Settings, people: None) -> None:
    with api(settings, world) as client:
        firm_h = {"Authorization": f"Bearer {world.key('firm')}"}
        clerk_h = {"Authorization": f"Bearer {world.key('clerk')}"}
        mee_h = {"Authorization": f"Bearer {world.key('mee.clerk')}"}
        ops_h = {"Authorization": f"Bearer {world.key('ops')}"}
        body = {"department": "samr", "asked": ASKED}
        assert client.post("/api/v1/disclosure-requests", json=body).status_code == 401
        assert (
            client.post("/api/v1/disclosure-requests", json=body, headers=clerk_h).status_code
            == 403
        )
        filed = client.post("/api/v1/disclosure-requests", json=body, headers=firm_h)
        assert filed.status_code == 201, filed.text
        number = filed.json()["id"]
        assert filed.json()["due_on"] == world.services().deadlines.due(20).isoformat()
        assert [i["id"] for i in client.get("/api/v1/disclosure-requests", headers=clerk_h).json()]
        assert client.get("/api/v1/disclosure-requests", headers=mee_h).json() == []
        assert client.get(f"/api/v1/disclosure-requests/{number}", headers=mee_h).status_code == 404
        refuse = {"outcome": "refused", "answer": REASON}
        bad = client.post(
            f"/api/v1/disclosure-requests/{number}/decision", json=refuse, headers=clerk_h
        )
        assert bad.status_code == 422
        assert "provision" in bad.json()["title"]
        done = client.post(
            f"/api/v1/disclosure-requests/{number}/decision",
            json={**refuse, "provision": PROVISION},
            headers=clerk_h,
        )
        assert done.status_code == 200, done.text
        mine = client.get(f"/api/v1/disclosure-requests/{number}", headers=firm_h).json()
        assert (mine["outcome"], mine["provision"]) == ("refused", PROVISION)
        assert client.get("/api/v1/disclosure-requests/figures", headers=firm_h).status_code == 403
        figures = client.get("/api/v1/disclosure-requests/figures", headers=ops_h).json()
        assert figures == [
            {
                "department": "samr",
                "received": 1,
                "decided": 1,
                "decided_in_time": 1,
                "open_overdue": 0,
                "median_days": 0,
            }
        ]
    with world.ctx.sessions() as session:
        reads = list(
            session.scalars(
                select(AuditEvent.actor).where(AuditEvent.tag == "disclosure:request:read")
            )
        )
    assert reads
    assert all("firm" not in actor for actor in reads), "the applicant's own reads are not logged"


def test_disclosure_requests_in_the_portal(world: World, settings: Settings, people: None) -> None:
    with api(settings, world) as client:
        assert client.get("/disclosure-requests/new", follow_redirects=False).status_code == 303
        csrf = _sign_in(client, "firm")
        form = client.get("/disclosure-requests/new")
        assert form.status_code == 200
        assert "20" in form.text
        assert "第三十三条" in form.text
        short = client.post(
            "/disclosure-requests", data={"csrf": csrf, "department": "samr", "asked": "list"}
        )
        assert short.status_code == 422
        assert 'role="alert"' in short.text
        filed = client.post(
            "/disclosure-requests",
            data={"csrf": csrf, "department": "samr", "asked": ASKED, "purpose": "research"},
            follow_redirects=False,
        )
        assert filed.status_code == 303, filed.text
        page = filed.headers["location"]
        mine = client.get(page)
        assert ASKED in mine.text
        assert 'action="/disclosure-requests/' not in mine.text, "the applicant does not decide"
        assert page in client.get("/disclosure-requests").text

        client.cookies.clear()
        clerk = _sign_in(client, "clerk")
        assert 'name="provision"' in client.get(page).text
        refused = client.post(
            f"{page}/decision", data={"csrf": clerk, "outcome": "refused", "answer": REASON}
        )
        assert refused.status_code == 422
        assert REASON in refused.text, "what was typed is kept"
        done = client.post(
            f"{page}/decision",
            data={"csrf": clerk, "outcome": "refused", "answer": REASON, "provision": PROVISION},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        decided = client.get(page).text
        assert PROVISION in decided
        assert 'name="provision"' not in decided, "decided once"

        client.cookies.clear()
        _sign_in(client, "mee.clerk")
        assert client.get(page).status_code == 404


def test_the_applicant_is_mailed_after_the_decision_commits(
    world: World, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    mailing = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_from": "office@credit.example.cn",
        }
    )
    world.account("firm", Role.SUBJECT, subject=factories.org(), email="legal@firm.example.cn")
    world.account("clerk", Role.OFFICER, department="samr", email="clerk@samr.example.cn")
    with api(mailing, world) as client:
        firm_h = {"Authorization": f"Bearer {world.key('firm')}"}
        clerk_h = {"Authorization": f"Bearer {world.key('clerk')}"}
        filed = client.post(
            "/api/v1/disclosure-requests",
            json={"department": "samr", "asked": ASKED},
            headers=firm_h,
        )
        assert filed.status_code == 201, filed.text
        assert [rcpt for rcpts, _ in inbox.messages for rcpt in rcpts] == ["clerk@samr.example.cn"]
        inbox.messages.clear()
        number = filed.json()["id"]
        refused = client.post(
            f"/api/v1/disclosure-requests/{number}/decision",
            json={"outcome": "refused", "answer": REASON},
            headers=clerk_h,
        )
        assert refused.status_code == 422
        assert inbox.messages == [], "a step that fails mails nobody"
        done = client.post(
            f"/api/v1/disclosure-requests/{number}/decision",
            json={"outcome": "refused", "answer": REASON, "provision": PROVISION},
            headers=clerk_h,
        )
        assert done.status_code == 200, done.text
    ((rcpts, message),) = inbox.messages
    assert rcpts == ["legal@firm.example.cn"]
    assert str(message["Subject"]) == f"Your disclosure request {number}: refused"
    assert PROVISION in message.get_body().get_content()
