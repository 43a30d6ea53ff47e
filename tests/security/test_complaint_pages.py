"""The portal's complaint pages and notifications on both stores: who may file, who sees
the informant, that a report stays out of the subject's public page and access log, CSRF
on every form, and marking one's own notifications read.

What a browser without JavaScript gets is what is checked: forms, redirects, statuses,
and the HTML of each role's view, which must never name the informant outside the
competent department.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bonafides.security.roles import ANONYMOUS, Role
from bonafides.settings import Settings
from bonafides.store.tables import AuditEvent, Complaint, Notification, Record, Subject
from bonafides.workflows import complaints
from bonafides.workflows.complaints import ComplaintKind, ComplaintRequest
from bonafides.workflows.notify import Note
from tests import factories
from tests.security.test_portal_pages import _csrf, _sign_in
from tests.security.world import World, api

WHAT = "<b>Expired</b> milk is sold every evening in the Chaoyang shop of this company."
NAME = "王五"
CONTACT = "wangwu@example.cn"


def _staff(world: World) -> None:
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("cnipa", Role.OFFICER, department="cnipa")
    world.account("ops", Role.OPERATOR)


def test_a_complaint_from_the_form_to_the_competent_departments_answer(
    world: World, settings: Settings
) -> None:
    _staff(world)
    firm = factories.org(name="被举报有限公司")
    world.penalty(firm)
    world.account("whistle", Role.SUBJECT, subject=factories.org())
    with api(settings, world) as client:
        csrf = _sign_in(client, "whistle")
        form = client.get(f"/complaints/new?code={firm.code}")
        assert form.status_code == 200
        assert firm.code in form.text
        data = {
            "csrf": csrf,
            "kind": "report",
            "about": "被举报有限公司",
            "code": firm.code,
            "type": "market.penalty",
            "text": WHAT,
            "informant_name": NAME,
            "informant_contact": CONTACT,
        }
        files = [("files", ("photo.txt", b"shelf photo, 2026-11-20", "text/plain"))]
        forged = client.post("/complaints", data={**data, "csrf": "nope"}, files=files)
        assert forged.status_code == 403
        filed = client.post("/complaints", data=data, files=files, follow_redirects=False)
        assert filed.status_code == 303, filed.text
        location = filed.headers["location"]
        number = int(location.rsplit("/", 1)[1])
        mine = client.get(location).text
        assert "&lt;b&gt;Expired&lt;/b&gt;" in mine
        assert "<b>Expired</b>" not in mine
        assert "photo.txt" in mine
        attachment = re.search(r'href="(/api/v1/attachments/\d+)"', mine)
        assert attachment
        evidence = attachment.group(1)
        assert NAME not in mine, "the informant's own view has no informant section"
        assert 'name="answer"' not in mine
        assert location in client.get("/complaints").text

        client.cookies.clear()
        other = _sign_in(client, "cnipa")
        assert client.get(location).status_code == 404
        hidden = client.get(evidence)
        assert hidden.status_code == 404
        assert hidden.json()["title"] == "no such attachment", "no word of the complaint"
        listed = client.get("/complaints").text
        assert location not in listed
        assert NAME not in listed
        refused = client.post(f"{location}/answer", data={"csrf": other, "answer": "x" * 20})
        assert refused.status_code == 404

        client.cookies.clear()
        ops = _sign_in(client, "ops")
        seen = client.get(location)
        assert seen.status_code == 200
        assert location in client.get("/complaints").text
        assert 'id="informant"' not in seen.text
        for secret in (NAME, CONTACT, "whistle"):
            assert secret not in seen.text, secret
        assert 'name="answer"' not in seen.text, "the operator does not answer for a department"
        assert (
            client.post(f"{location}/answer", data={"csrf": ops, "answer": "x" * 20}).status_code
            == 403
        )

        client.cookies.clear()
        clerk = _sign_in(client, "clerk")
        assert location in client.get("/complaints").text
        page = client.get(location).text
        assert 'id="informant"' in page
        for secret in (NAME, CONTACT, "whistle"):
            assert secret in page, secret
        assert 'name="answer"' in page
        assert client.get(evidence).content == b"shelf photo, 2026-11-20"
        assert client.post(f"{location}/answer", data={"answer": "x" * 20}).status_code == 403
        short = client.post(f"{location}/answer", data={"csrf": clerk, "answer": "no"})
        assert short.status_code == 422
        assert NAME in short.text
        answered = client.post(
            f"{location}/answer",
            data={"csrf": clerk, "answer": "Inspected on Monday; a case is open."},
            follow_redirects=False,
        )
        assert answered.status_code == 303, answered.text
        assert 'name="answer"' not in client.get(location).text

        client.cookies.clear()
        public = client.get(f"/subjects/{firm.code}")
        assert public.status_code == 200
        for trace in ("Expired", "Chaoyang", location, NAME):
            assert trace not in public.text, trace

        _sign_in(client, "whistle")
        me = client.get("/me").text
        assert f"report {number} was answered" in me
        assert f'href="/complaints/{number}"' in me, "a note links to what it is about"
        assert 'class="unread"' in me
    with world.ctx.sessions() as session:
        complaint = session.get(Complaint, number)
        assert complaint is not None
        assert complaint.status == "answered"
        reads = session.scalars(select(AuditEvent).where(AuditEvent.tag == "complaint:report:read"))
        readers = {e.actor for e in reads}
        filed_by = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.tag == "complaint:report:filed")
        ).all()
        complaint_events = session.scalars(
            select(AuditEvent.tag).where(AuditEvent.object_ref == f"complaint {number}")
        ).all()
        subject_id = session.scalar(select(Subject.id).where(Subject.key == firm.code))
        logged = session.scalars(
            select(AuditEvent.tag).where(AuditEvent.subject_id == subject_id)
        ).all()
    assert readers == {"user:clerk", "user:ops"}, "staff reads are audited, the informant's not"
    assert filed_by == ["informant"]
    assert "complaint:report:answered" in complaint_events
    assert not [t for t in logged if t.startswith("complaint:")], "nothing in the access log"


def test_a_visitor_without_an_account_files_a_report_with_the_form_token(
    world: World, settings: Settings
) -> None:
    _staff(world)
    firm = factories.org()
    world.penalty(firm)
    with world.ctx.sessions() as session:
        records = session.scalar(select(func.count()).select_from(Record))
    with api(settings, world) as client:
        assert client.get("/complaints", follow_redirects=False).status_code == 303
        form = client.get("/complaints/new")
        assert form.status_code == 200
        assert "bonafides_form=" in form.headers["set-cookie"]
        token = _csrf(form.text)
        data = {
            "csrf": token,
            "kind": "report",
            "about": "某食品店",
            "code": firm.code,
            "type": "food_drug.practice_ban",
            "text": "Sells food past its date to schoolchildren.",
            "informant_name": "",
            "informant_contact": "",
        }
        assert client.post("/complaints", data={**data, "csrf": "y" * 30}).status_code == 403
        unrouted = client.post("/complaints", data=data)
        assert unrouted.status_code == 422, "a type several departments decide needs a choice"
        assert "schoolchildren" in unrouted.text, "the form keeps what was typed"
        done = client.post("/complaints", data={**data, "department": "nmpa"})
        assert done.status_code == 200, done.text
        assert 'role="status"' in done.text
    with world.ctx.sessions() as session:
        filed = session.scalars(select(Complaint)).all()
        assert [(c.department, c.informant_account_id, c.informant_sealed) for c in filed] == [
            ("nmpa", None, None)
        ]
        assert session.scalar(select(func.count()).select_from(Record)) == records


def test_the_operator_sees_escalated_complaints(world: World, settings: Settings) -> None:
    _staff(world)
    with world.ctx.sessions.begin() as session:
        number = complaints.file(
            session,
            world.services(),
            ANONYMOUS,
            ComplaintRequest(
                kind=ComplaintKind.COMPLAINT,
                text="The bureau never answered my letter of March.",
                about="the bureau",
                department="samr",
            ),
        ).id
    world.clock.advance(days=40)
    services = world.services()
    with world.ctx.sessions.begin() as session:
        complaints.escalate(session, services.deadlines, services.notifier, actor="cron")
    with api(settings, world) as client:
        _sign_in(client, "ops")
        escalated = client.get("/complaints?escalated=1")
        assert escalated.status_code == 200
        assert f"/complaints/{number}" in escalated.text
        assert '<span class="badge">' in escalated.text
        detail = client.get(f"/complaints/{number}")
        assert detail.status_code == 200
        assert 'id="informant"' not in detail.text


def test_notifications_are_marked_read_only_by_their_own_account(
    world: World, settings: Settings
) -> None:
    firm, other = factories.org(), factories.org()
    mine = world.account("firm", Role.SUBJECT, subject=firm)
    theirs = world.account("other", Role.SUBJECT, subject=other)
    world.penalty(firm)
    notifier = world.services().notifier
    with world.ctx.sessions.begin() as session:
        for account, title in ((mine, "first"), (mine, "second"), (theirs, "private")):
            assert account.account_id is not None
            notifier.notify(
                session, Note(account.account_id, "complaint:answered", title, f"{title} body")
            )
    with world.ctx.sessions() as session:
        ids = {n.title: n.id for n in session.scalars(select(Notification))}
    with api(settings, world) as client:
        csrf = _sign_in(client, "firm")
        page = client.get("/me").text
        assert "private" not in page
        for title in ("first", "second"):
            assert f'action="/me/notifications/{ids[title]}/read"' in page
        assert re.search(r'class="unread"[^>]*>[^<]*2', page), "the bar counts two unread"
        url = f"/me/notifications/{ids['first']}/read"
        assert client.post(url, data={"csrf": "forged"}).status_code == 403
        assert client.post(url, data={}).status_code == 403
        foreign = f"/me/notifications/{ids['private']}/read"
        assert client.post(foreign, data={"csrf": csrf}).status_code == 404
        done = client.post(url, data={"csrf": csrf}, follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"] == "/me#notifications"
        after = client.get("/me").text
        assert f'action="{url}"' not in after
        assert '<li class="read">' in after
        assert re.search(r'class="unread"[^>]*>[^<]*1', after)
        assert client.post(url, data={"csrf": csrf}).status_code == 200, "marking twice is fine"
    with world.ctx.sessions() as session:
        read = {n.title: n.read_at is not None for n in session.scalars(select(Notification))}
    assert read == {"first": True, "second": False, "private": False}
