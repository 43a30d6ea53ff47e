"""Overdue repair applications and complaints go to the operators once, like objections."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bonafides.records import SubjectRef
from bonafides.security.roles import Role
from bonafides.store.tables import AuditEvent, Notification
from bonafides.workflows import attachments, complaints, repair
from tests import factories
from tests.security.world import World, record_of


def test_overdue_repairs_and_complaints_escalate_once(world: World) -> None:
    firm: SubjectRef = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    ops = world.account("ops", Role.OPERATOR)
    (record_id,) = world.store(
        record_of(
            "market.abnormal_operations",
            firm,
            source="samr",
            decided=world.today - dt.timedelta(days=40),
            content={"abnormal_reason": "no_annual_report"},
        )
    )
    services = world.services()
    with world.ctx.sessions.begin() as session:
        application = repair.apply(
            session,
            services,
            world.principal("firm"),
            record_id=record_id,
            evidence="The annual report was filed on 2026-01-02.",
            commitment="本单位承诺诚信经营，遵守法律法规，如有违反愿承担责任。",
            uploads=[attachments.Upload("receipt.txt", "text/plain", b"filed")],
        )
        complaint = complaints.file(
            session,
            services,
            world.principal("firm"),
            complaints.ComplaintRequest(
                kind=complaints.ComplaintKind.REPORT,
                text="Sells expired milk every evening.",
                about="a shop",
                department="samr",
                informant_name="张三",
            ),
        )
        ids = application.id, complaint.id
    with world.ctx.sessions.begin() as session:
        assert repair.escalate(session, services.deadlines, services.notifier, actor="t") == []
        assert complaints.escalate(session, services.deadlines, services.notifier, actor="t") == []
    world.clock.advance(days=40)
    later = world.services()
    with world.ctx.sessions.begin() as session:
        done = repair.escalate(session, later.deadlines, later.notifier, actor="cron")
        assert [a.id for a in done] == [ids[0]]
        filed = complaints.escalate(session, later.deadlines, later.notifier, actor="cron")
        assert [c.id for c in filed] == [ids[1]]
    with world.ctx.sessions.begin() as session:
        assert repair.escalate(session, later.deadlines, later.notifier, actor="cron") == []
        assert complaints.escalate(session, later.deadlines, later.notifier, actor="cron") == []
    with world.ctx.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.tag.like("%:escalated"))).all()
        notes = session.scalars(
            select(Notification).where(Notification.account_id == ops.account_id)
        ).all()
    assert sorted(e.tag for e in events) == [
        "complaint:complaint:escalated",
        "repair:application:escalated",
    ]
    complaint_event = next(e for e in events if e.tag.startswith("complaint"))
    assert complaint_event.subject_id is None, "the reported subject learns nothing"
    assert "张三" not in str(complaint_event.detail)
    assert sorted(n.topic for n in notes) == ["complaint:escalated", "repair:escalated"]
    assert all("张三" not in n.body for n in notes)
