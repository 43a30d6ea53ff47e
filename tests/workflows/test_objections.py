"""Objections: opened by the subject, marked on the record, answered by the department in
time or escalated; each outcome writes the record's next version. Both stores."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bonafides.records import RecordStatus, SubjectRef
from bonafides.security import audit
from bonafides.security.roles import Role
from bonafides.store.tables import AuditEvent, Notification, Objection, RecordVersion
from bonafides.workflows import attachments, objections
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
)
from bonafides.workflows.objections import ObjectionOutcome
from tests import factories
from tests.security.world import World

#: Also on PostgreSQL partitioned by subject (migration 0031).
pytestmark = pytest.mark.partitioned

GROUNDS = "The fine was paid in full before the decision was published."
PDF = attachments.Upload("receipt.pdf", "application/pdf", b"%PDF-1.7\nreceipt\n%%EOF\n")


def _open(world: World, who: str, record_id: int, **kw: object) -> Objection:
    with world.ctx.sessions.begin() as session:
        return objections.open_objection(
            session,
            world.services(),
            world.principal(who),
            record_id=record_id,
            grounds=str(kw.get("grounds", GROUNDS)),
            uploads=kw.get("uploads", ()),  # type: ignore[arg-type]
        )


def _decide(
    world: World, who: str, objection_id: int, outcome: ObjectionOutcome, **kw: object
) -> Objection:
    with world.ctx.sessions.begin() as session:
        return objections.decide(
            session,
            world.services(),
            world.principal(who),
            objection_id,
            outcome=outcome,
            reasons="Checked against the payment records of the bureau.",
            corrected=kw.get("corrected"),  # type: ignore[arg-type]
        )


@pytest.fixture
def firm(world: World) -> SubjectRef:
    subject = factories.org()
    world.account("firm", Role.SUBJECT, subject=subject)
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("ops", Role.OPERATOR)
    return subject


def test_open_marks_the_record_and_sets_a_working_day_deadline(
    world: World, firm: SubjectRef
) -> None:
    record_id = world.penalty(firm)
    opened = _open(world, "firm", record_id, uploads=[PDF])
    assert opened.status == "open"
    calendar = world.services().deadlines.calendar
    assert opened.due_on == calendar.add_working_days(world.today, 15)
    assert calendar.working_days_between(world.today, opened.due_on) == 15
    record = world.record(record_id)
    assert record.status == RecordStatus.UNDER_OBJECTION
    assert record.version == 2
    with world.ctx.sessions() as session:
        stored = attachments.of(session, objections.KIND, opened.id)
        assert [a.file_name for a in stored] == ["receipt.pdf"]
        assert attachments.read(world.ctx.settings.data_dir, stored[0]) == PDF.data
        tags = set(session.scalars(select(AuditEvent.tag)))
        assert {"objection:record:opened", "records:record:under_objection"} <= tags
        topics = set(session.scalars(select(Notification.topic)))
        assert {"objection:opened", "objection:received"} <= topics
        assert audit.verify(session).ok
    with pytest.raises(ConflictError):
        _open(world, "firm", record_id)


def test_only_the_subject_objects_to_its_own_records(world: World, firm: SubjectRef) -> None:
    theirs = world.penalty(factories.org())
    with pytest.raises(NotFoundError):
        _open(world, "firm", theirs)
    mine = world.penalty(firm)
    with pytest.raises(ForbiddenError):
        _open(world, "clerk", mine)
    world.account("pending", Role.SUBJECT, subject=firm, bind=False)
    with pytest.raises(ForbiddenError, match="not yet bound"):
        _open(world, "pending", mine)
    with pytest.raises(InvalidError, match="grounds"):
        _open(world, "firm", mine, grounds="no")
    with pytest.raises(InvalidError, match="4 Chinese characters"):
        _open(world, "firm", mine, grounds="。。。。。。。。。。。。")
    revoked = world.penalty(firm, status=RecordStatus.REVOKED)
    with pytest.raises(ConflictError, match="revoked"):
        _open(world, "firm", revoked)


def test_short_chinese_grounds_are_enough(world: World, firm: SubjectRef) -> None:
    """Five Chinese characters say what an English sentence does: the minimum of ten is
    counted in letters, a Chinese character weighing two and a half."""
    opened = _open(world, "firm", world.penalty(firm), grounds="罚款已缴清")
    assert opened.grounds == "罚款已缴清"


def test_attachments_are_checked_by_content(world: World, firm: SubjectRef) -> None:
    record_id = world.penalty(firm)
    html = attachments.Upload("x.pdf", "application/pdf", b"<script>alert(1)</script>")
    with pytest.raises(InvalidError, match="declared application/pdf but is text/plain"):
        _open(world, "firm", record_id, uploads=[html])
    exe = attachments.Upload("x.exe", "application/octet-stream", b"MZ\x90\x00\x03\x00")
    with pytest.raises(InvalidError, match="not a PDF"):
        _open(world, "firm", record_id, uploads=[exe])
    big = attachments.Upload("big.txt", "text/plain", b"a" * (64 * 1024 + 1))
    with pytest.raises(InvalidError, match="larger than"):
        _open(world, "firm", record_id, uploads=[big])
    sneaky = attachments.Upload("../../etc/passwd", "text/plain", b"root:x:0:0")
    opened = _open(world, "firm", record_id, uploads=[sneaky])
    with world.ctx.sessions() as session:
        (stored,) = attachments.of(session, objections.KIND, opened.id)
    assert stored.file_name == "passwd"
    assert ".." not in stored.path
    assert world.record(record_id).status == RecordStatus.UNDER_OBJECTION


def test_upheld_puts_the_prior_status_back(world: World, firm: SubjectRef) -> None:
    record_id = world.penalty(firm)
    opened = _open(world, "firm", record_id)
    with pytest.raises(ForbiddenError):
        _decide(world, "ops", opened.id, ObjectionOutcome.UPHELD)
    world.account("other.clerk", Role.OFFICER, department="mee")
    with pytest.raises(NotFoundError):
        _decide(world, "other.clerk", opened.id, ObjectionOutcome.UPHELD)
    decided = _decide(world, "clerk", opened.id, ObjectionOutcome.UPHELD)
    assert decided.outcome == "upheld"
    record = world.record(record_id)
    assert record.status == RecordStatus.ACTIVE
    assert record.version == 3
    with pytest.raises(ConflictError, match="already"):
        _decide(world, "clerk", opened.id, ObjectionOutcome.REVOKED)
    with world.ctx.sessions() as session:
        note = session.scalars(
            select(Notification).where(Notification.topic == "objection:decided")
        ).one()
        assert note.account_id == decided.account_id
        assert "Checked against" in note.body


def test_revoked_ends_the_record(world: World, firm: SubjectRef) -> None:
    record_id = world.penalty(firm)
    opened = _open(world, "firm", record_id)
    _decide(world, "clerk", opened.id, ObjectionOutcome.REVOKED)
    assert world.record(record_id).status == RecordStatus.REVOKED


def test_corrected_writes_a_new_version_with_the_content(world: World, firm: SubjectRef) -> None:
    record_id = world.penalty(firm, fine="1.5")
    opened = _open(world, "firm", record_id)
    with pytest.raises(InvalidError, match="corrected field values"):
        _decide(world, "clerk", opened.id, ObjectionOutcome.CORRECTED)
    with pytest.raises(InvalidError, match="cannot be corrected"):
        _decide(
            world, "clerk", opened.id, ObjectionOutcome.CORRECTED, corrected={"decision_no": "x"}
        )
    with pytest.raises(InvalidError, match="not a number"):
        _decide(
            world,
            "clerk",
            opened.id,
            ObjectionOutcome.CORRECTED,
            corrected={"fine_amount_10k_yuan": "lots"},
        )
    with pytest.raises(InvalidError, match="changes nothing"):
        _decide(
            world,
            "clerk",
            opened.id,
            ObjectionOutcome.CORRECTED,
            corrected={"fine_amount_10k_yuan": "1.5"},
        )
    _decide(
        world,
        "clerk",
        opened.id,
        ObjectionOutcome.CORRECTED,
        corrected={"fine_amount_10k_yuan": "0.5"},
    )
    record = world.record(record_id)
    assert record.status == RecordStatus.CORRECTED
    assert record.content["fine_amount_10k_yuan"] == "0.5"
    with world.ctx.sessions() as session:
        versions = session.execute(
            select(RecordVersion.version, RecordVersion.status, RecordVersion.content)
            .where(RecordVersion.record_id == record_id)
            .order_by(RecordVersion.version)
        ).all()
    assert [(v, s) for v, s, _ in versions] == [
        (1, "active"),
        (2, "under_objection"),
        (3, "under_objection"),
        (4, "corrected"),
    ]
    assert versions[0][2]["fine_amount_10k_yuan"] == "1.5", "the old content is kept"
    # A corrected record can be objected to again; upheld, it stays corrected.
    again = _open(world, "firm", record_id)
    _decide(world, "clerk", again.id, ObjectionOutcome.UPHELD)
    assert world.record(record_id).status == RecordStatus.CORRECTED


def test_overdue_objections_escalate_once_to_operators(world: World, firm: SubjectRef) -> None:
    opened = _open(world, "firm", world.penalty(firm))
    answered = _open(world, "firm", world.penalty(firm))
    _decide(world, "clerk", answered.id, ObjectionOutcome.UPHELD)
    services = world.services()
    with world.ctx.sessions.begin() as session:
        assert objections.overdue(session, services.deadlines) == []
    world.clock.advance(days=30)
    with world.ctx.sessions.begin() as session:
        late = objections.overdue(session, services.deadlines)
        assert [o.id for o in late] == [opened.id]
        done = objections.escalate(session, services.deadlines, services.notifier, actor="job")
        assert [o.id for o in done] == [opened.id]
    with world.ctx.sessions.begin() as session:
        assert (
            objections.escalate(session, services.deadlines, services.notifier, actor="job") == []
        )
        ops = world.principal("ops")
        escalated = session.scalars(
            select(Notification).where(Notification.topic == "objection:escalated")
        ).all()
        assert [n.account_id for n in escalated] == [ops.account_id]
        listed = objections.visible_to(
            session, services.catalogue, ops, overdue_on=services.deadlines.today()
        )
        assert [o.id for o in listed] == [opened.id]
        count = session.scalar(
            select(func.count()).where(AuditEvent.tag == "objection:objection:escalated")
        )
        assert count == 1


def test_who_sees_which_objections(world: World, firm: SubjectRef) -> None:
    opened = _open(world, "firm", world.penalty(firm))
    stranger = factories.org()
    world.account("stranger", Role.SUBJECT, subject=stranger)
    world.account("mee.clerk", Role.OFFICER, department="mee")
    world.account("hz.clerk", Role.OFFICER, department="hz_amr")
    services = world.services()
    with world.ctx.sessions() as session:

        def ids(who: str) -> list[int]:
            return [
                o.id
                for o in objections.visible_to(session, services.catalogue, world.principal(who))
            ]

        assert ids("firm") == [opened.id]
        assert ids("clerk") == [opened.id]
        assert ids("ops") == [opened.id]
        assert ids("stranger") == []
        assert ids("mee.clerk") == []
        assert ids("hz.clerk") == [], "a department below the source does not answer for it"
        with pytest.raises(NotFoundError):
            objections.get(session, services.catalogue, world.principal("stranger"), opened.id)


@pytest.mark.parametrize(
    ("due_in_days", "overdue"),
    [(-1, True), (0, False), (1, False)],
    ids=["due-yesterday", "due-today", "due-tomorrow"],
)
def test_an_objection_is_overdue_only_after_its_last_day(
    world: World, firm: SubjectRef, due_in_days: int, overdue: bool
) -> None:
    """The due day is the department's last day to answer: overdue from the day after."""
    opened = _open(world, "firm", world.penalty(firm))
    due_on = world.today + dt.timedelta(days=due_in_days)
    with world.ctx.sessions.begin() as session:
        session.get_one(Objection, opened.id).due_on = due_on
    services = world.services()
    assert services.deadlines.overdue(due_on) is overdue
    with world.ctx.sessions.begin() as session:
        listed = [o.id for o in objections.overdue(session, services.deadlines)]
        assert listed == ([opened.id] if overdue else [])
        done = objections.escalate(session, services.deadlines, services.notifier, actor="job")
        assert [o.id for o in done] == listed
