"""The due-process use cases: one rule for logging staff reads of a case, and a failed
step that leaves nothing for a later commit on the same unit of work."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bonafides.app.due_process import complaints as complaint_steps
from bonafides.app.due_process import objections as objection_steps
from bonafides.app.due_process.desk import Desk, desk_for
from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.security.roles import ANONYMOUS, Role
from bonafides.store.access import READ_TAG
from bonafides.store.tables import AuditEvent, Department, Objection
from bonafides.workflows.common import InvalidError
from bonafides.workflows.complaints import ComplaintKind, ComplaintRequest
from bonafides.workflows.objections import ObjectionOutcome
from tests import factories
from tests.security.world import World


def _desk(world: World) -> Desk:
    return desk_for(world.ctx, clock=world.clock)


def _events(world: World, tag: str) -> list[tuple[str, int | None, str | None]]:
    with world.ctx.sessions() as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.subject_id, AuditEvent.object_ref)
            .where(AuditEvent.tag == tag)
            .order_by(AuditEvent.id)
        ).all()
    return [(actor, subject_id, ref) for actor, subject_id, ref in rows]


def test_staff_reading_an_objection_is_logged_for_the_subject_and_the_subjects_is_not(
    world: World,
) -> None:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("ops", Role.OPERATOR)
    record = world.penalty(firm)
    desk = _desk(world)
    with UnitOfWork(world.ctx.sessions) as unit:
        opened = objection_steps.open_objection(
            unit,
            desk,
            world.principal("firm"),
            record_id=record,
            grounds="The decision names the wrong branch of the company.",
        )
    before = _events(world, READ_TAG)
    for username in ("firm", "clerk", "ops"):
        with UnitOfWork(world.ctx.sessions) as unit:
            objection_steps.read_objection(unit, desk, world.principal(username), opened.id)
    logged = _events(world, READ_TAG)[len(before) :]
    subject_id = world.record(record).subject_id
    assert logged == [
        ("user:clerk", subject_id, f"objection {opened.id}"),
        ("user:ops", subject_id, f"objection {opened.id}"),
    ]


def test_staff_reading_a_complaint_is_audited_outside_any_subjects_log(world: World) -> None:
    world.account("whistle", Role.SUBJECT, subject=factories.org())
    world.account("clerk", Role.OFFICER, department="samr")
    desk = _desk(world)
    request = ComplaintRequest(
        kind=ComplaintKind.REPORT,
        text="Sells counterfeit brand goods from the back room every evening.",
        about="北京测试有限公司",
        type_code="market.penalty",
    )
    with UnitOfWork(world.ctx.sessions) as unit:
        filed = complaint_steps.file_complaint(unit, desk, world.principal("whistle"), request)
    with UnitOfWork(world.ctx.sessions) as unit:
        mine = complaint_steps.read_complaint(unit, desk, world.principal("whistle"), filed.id)
    assert _events(world, "complaint:report:read") == [], "the informant reads its own"
    assert mine.informant is None, "the informant is unsealed for the department only"
    with UnitOfWork(world.ctx.sessions) as unit:
        theirs = complaint_steps.read_complaint(unit, desk, world.principal("clerk"), filed.id)
    assert theirs.handles
    assert theirs.informant is not None
    assert _events(world, "complaint:report:read") == [
        ("user:clerk", None, f"complaint {filed.id}")
    ]
    with UnitOfWork(world.ctx.sessions) as unit:
        anonymous = complaint_steps.file_complaint(unit, desk, ANONYMOUS, request)
    assert anonymous.informant_account_id is None


def test_a_failed_step_is_undone_at_once_so_the_unit_can_still_answer(world: World) -> None:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    record = world.penalty(firm)
    desk = _desk(world)
    with UnitOfWork(world.ctx.sessions) as unit:
        opened = objection_steps.open_objection(
            unit,
            desk,
            world.principal("firm"),
            record_id=record,
            grounds="The decision names the wrong branch of the company.",
        )
    with UnitOfWork(world.ctx.sessions) as unit:

        def half_done(session: Session) -> None:
            session.add(
                Department(code="half", name_zh="半", name_en="Half", level="city", region="110100")
            )
            session.flush()
            raise InvalidError("the step fails after its first write")

        with pytest.raises(InvalidError):
            run(unit, half_done)
        with pytest.raises(InvalidError):
            objection_steps.decide_objection(
                unit,
                desk,
                world.principal("clerk"),
                opened.id,
                outcome=ObjectionOutcome.UPHELD,
                reasons="no",
            )
        shown = objection_steps.read_objection(unit, desk, world.principal("clerk"), opened.id)
        assert shown.status == "open"
    with world.ctx.sessions() as session:
        assert session.scalar(select(func.count()).where(Department.code == "half")) == 0
        objection = session.get(Objection, opened.id)
        assert objection is not None
        assert objection.status == "open"
