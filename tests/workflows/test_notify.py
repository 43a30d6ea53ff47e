"""Notifications: stored with the step that caused them, shown in the API, and mailed
through a real SMTP server on loopback (aiosmtpd) when one is configured."""

from __future__ import annotations

from sqlalchemy import select

from bonafides.security import audit
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import AuditEvent, Notification
from bonafides.workflows import notify, objections
from tests import factories
from tests.security.world import World, api
from tests.workflows.conftest import Inbox, free_port


def _objection(world: World) -> None:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm, email="legal@firm.example.cn")
    world.account("clerk", Role.OFFICER, department="samr", email="clerk@samr.example.cn")
    world.account("quiet", Role.OFFICER, department="samr")
    record_id = world.penalty(firm)
    with world.ctx.sessions.begin() as session:
        objections.open_objection(
            session,
            world.services(mail=True),
            world.principal("firm"),
            record_id=record_id,
            grounds="The decision names the wrong branch of the company.",
        )


def test_mail_goes_out_through_smtp(world: World, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _objection(world)
    mailer = notify.SmtpMailer(
        host="127.0.0.1", port=port, sender="office@credit.example.cn", starttls=False
    )
    with world.ctx.sessions.begin() as session:
        statuses = dict(session.execute(select(Notification.topic, Notification.mail_status)).all())
        assert statuses["objection:received"] == "pending"
        result = notify.deliver(session, mailer, world.clock)
    assert (result.sent, result.failed) == (2, 0)
    recipients = sorted(r for rcpt, _ in inbox.messages for r in rcpt)
    assert recipients == ["clerk@samr.example.cn", "legal@firm.example.cn"]
    subjects = {m["Subject"] for _, m in inbox.messages}
    assert any("Objection" in s for s in subjects)
    assert all(m["From"] == "office@credit.example.cn" for _, m in inbox.messages)
    with world.ctx.sessions.begin() as session:
        rows = session.scalars(select(Notification)).all()
        assert {r.mail_status for r in rows} == {"sent", "none"}, "the account without e-mail"
        assert notify.deliver(session, mailer, world.clock).sent == 0, "each is mailed once"


def test_a_failed_delivery_is_kept_and_retried(world: World, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _objection(world)
    down = notify.SmtpMailer(
        host="127.0.0.1", port=free_port(), sender="x@y.cn", starttls=False, timeout=2
    )
    with world.ctx.sessions.begin() as session:
        result = notify.deliver(session, down, world.clock)
    assert (result.sent, result.failed) == (0, 2)
    with world.ctx.sessions() as session:
        failed = session.scalars(
            select(Notification).where(Notification.mail_status == "failed")
        ).all()
        assert all(n.mail_error for n in failed)
    up = notify.SmtpMailer(host="127.0.0.1", port=port, sender="x@y.cn", starttls=False)
    with world.ctx.sessions.begin() as session:
        assert notify.deliver(session, up, world.clock).sent == 2
    assert len(inbox.messages) == 2


def test_notifications_in_the_api(world: World, settings: Settings) -> None:
    _objection(world)
    with api(settings, world) as client:
        headers = {"Authorization": f"Bearer {world.key('firm')}"}
        listed = client.get("/api/v1/me/notifications", headers=headers)
        assert listed.status_code == 200
        (note,) = listed.json()
        assert note["topic"] == "objection:received"
        assert note["read_at"] is None
        url = f"/api/v1/me/notifications/{note['id']}/read"
        assert client.post(url, headers=headers).status_code == 204
        assert client.post(url, headers=headers).status_code == 204, "again: no change"
        assert client.get("/api/v1/me/notifications", headers=headers).json()[0]["read_at"]
        clerk = {"Authorization": f"Bearer {world.key('clerk')}"}
        assert client.post(url, headers=clerk).status_code == 404, "not the clerk's"
        assert client.get("/api/v1/me/notifications").status_code == 401
    with world.ctx.sessions() as session:
        marked = session.scalars(
            select(AuditEvent.object_ref).where(AuditEvent.tag == "notification:notification:read")
        ).all()
        assert marked == [f"notification {note['id']}"], "one event, when it changed"
        assert audit.verify(session).ok
