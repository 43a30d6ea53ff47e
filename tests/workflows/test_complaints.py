"""Complaints and reports: routed to the competent department, the informant known to it
alone, and a report never creating a record. Both stores."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bonafides.security.roles import ANONYMOUS, Role
from bonafides.store.access import access_log
from bonafides.store.tables import AuditEvent, Complaint, Record, RecordVersion, Subject
from bonafides.workflows import complaints
from bonafides.workflows.common import ForbiddenError, InvalidError, NotFoundError
from bonafides.workflows.complaints import ComplaintKind, ComplaintRequest
from tests import factories
from tests.security.world import World

TEXT = "The company keeps selling expired food in its Chaoyang shop every evening."


def _file(world: World, who: str | None, **kw: str) -> Complaint:
    principal = world.principal(who) if who else ANONYMOUS
    request = ComplaintRequest(
        kind=ComplaintKind(kw.pop("kind", "report")),
        text=kw.pop("text", TEXT),
        about=kw.pop("about", "北京测试有限公司"),
        **kw,
    )
    with world.ctx.sessions.begin() as session:
        return complaints.file(session, world.services(), principal, request)


@pytest.fixture
def staff(world: World) -> None:
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("mee.clerk", Role.OFFICER, department="mee")
    world.account("ops", Role.OPERATOR)


def test_routing(world: World, staff: None) -> None:
    services = world.services()
    assert complaints.route(services, type_code="market.penalty", department=None) == "samr"
    with pytest.raises(InvalidError, match="choose one"):
        complaints.route(services, type_code="food_drug.practice_ban", department=None)
    assert (
        complaints.route(services, type_code="food_drug.practice_ban", department="nmpa") == "nmpa"
    )
    with pytest.raises(InvalidError, match="does not decide"):
        complaints.route(services, type_code="market.penalty", department="mee")
    assert complaints.route(services, type_code=None, department="mee") == "mee"
    with pytest.raises(InvalidError, match="name the record type"):
        complaints.route(services, type_code=None, department=None)
    with pytest.raises(InvalidError, match="unknown department"):
        complaints.route(services, type_code=None, department="nobody")


def test_a_complaint_goes_to_the_department_that_decided(world: World, staff: None) -> None:
    """A market penalty decided in Zhejiang is answered in Zhejiang, not by samr."""
    firm = factories.org(region="330106")
    world.penalty(firm, source="zj_amr")
    filed = _file(world, None, kind="complaint", code=firm.code, type_code="market.penalty")
    assert filed.department == "zj_amr"
    twice = factories.org(region="330106")
    world.penalty(twice, source="zj_amr")
    world.penalty(twice, source="hz_amr")
    with pytest.raises(InvalidError, match="choose one of hz_amr, zj_amr"):
        _file(world, None, kind="complaint", code=twice.code, type_code="market.penalty")
    assert (
        _file(
            world, None, code=twice.code, type_code="market.penalty", department="hz_amr"
        ).department
        == "hz_amr"
    )


@pytest.mark.parametrize(
    ("region", "expected"),
    [("330106", "hz_amr"), ("330282", "zj_amr"), ("110105", "bj_amr"), ("440300", "samr")],
)
def test_without_a_decision_the_local_department_is_competent(
    world: World, staff: None, region: str, expected: str
) -> None:
    """A report about a subject with no record of the type goes to the market regulator of
    its region: Hangzhou's for a Hangzhou firm, the province's for the rest of Zhejiang,
    the national one where no local department is known."""
    firm = factories.org(region=region)
    assert _file(world, None, code=firm.code, type_code="market.penalty").department == expected


def test_a_report_never_creates_a_record(world: World, staff: None) -> None:
    firm = factories.org()
    world.penalty(firm)
    with world.ctx.sessions() as session:
        before = [
            session.scalar(select(func.count()).select_from(t))
            for t in (Record, RecordVersion, Subject)
        ]
    unknown = factories.org()
    _file(world, None, code=firm.code, type_code="market.penalty")
    _file(world, None, code=unknown.code, department="samr", about="另一家公司")
    with world.ctx.sessions() as session:
        after = [
            session.scalar(select(func.count()).select_from(t))
            for t in (Record, RecordVersion, Subject)
        ]
    assert after == before


def test_informant_is_known_to_the_department_alone(world: World, staff: None) -> None:
    firm = factories.org()
    world.penalty(firm)
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("whistle", Role.SUBJECT, subject=factories.org())
    filed = _file(
        world,
        "whistle",
        code=firm.code,
        type_code="market.penalty",
        informant_name="王五",
        informant_contact="wangwu@example.cn",
    )
    services = world.services()
    with world.ctx.sessions() as session:
        row = session.get(Complaint, filed.id)
        assert row is not None
        assert row.informant_sealed is not None
        assert "王五" not in row.informant_sealed
        assert "whistle" not in row.informant_sealed
        seen = {
            who: complaints.informant(services, world.principal(who), row)
            for who in ("clerk", "mee.clerk", "ops", "whistle")
        }
        assert seen["clerk"] == complaints.Informant("whistle", "王五", "wangwu@example.cn")
        assert seen["mee.clerk"] is None
        assert seen["ops"] is None
        assert seen["whistle"] is None
        events = session.scalars(select(AuditEvent).where(AuditEvent.tag.like("complaint:%"))).all()
        assert [e.actor for e in events] == ["informant"]
        assert all(e.subject_id is None for e in events)
        assert all("whistle" not in str(e.detail) for e in events)
        subject_id = session.scalar(select(Subject.id).where(Subject.key == firm.code))
        assert subject_id is not None
        log = access_log(session, subject_id)
        assert all("whistle" not in e.actor and "complaint" not in e.tag for e in log)
        with pytest.raises(NotFoundError):
            complaints.get(session, services, world.principal("mee.clerk"), filed.id)
        with pytest.raises(NotFoundError):
            complaints.get(session, services, world.principal("firm"), filed.id)
        assert [
            c.id for c in complaints.visible_to(session, services, world.principal("whistle"))
        ] == [filed.id]
        assert complaints.visible_to(session, services, world.principal("mee.clerk")) == []
        with pytest.raises(ForbiddenError):
            complaints.visible_to(session, services, ANONYMOUS)


def test_answer_notifies_a_signed_in_informant(world: World, staff: None) -> None:
    world.account("whistle", Role.SUBJECT, subject=factories.org())
    filed = _file(world, "whistle", kind="complaint", department="samr", about="the bureau")
    with world.ctx.sessions.begin() as session, pytest.raises(ForbiddenError):
        complaints.answer(session, world.services(), world.principal("ops"), filed.id, "x" * 20)
    with world.ctx.sessions.begin() as session:
        complaints.answer(
            session,
            world.services(),
            world.principal("clerk"),
            filed.id,
            "We inspected the shop on Monday and opened a case.",
        )
    with world.ctx.sessions() as session:
        from bonafides.workflows.notify import for_account

        notes = for_account(session, world.principal("whistle").account_id or 0)
        assert [n.topic for n in notes] == ["complaint:answered"]


def test_a_persons_page_ref_names_them_and_their_region_routes_it(
    world: World, staff: None
) -> None:
    """The portal files a complaint about a person by the keyed ref of their page, never
    their number: the ref finds the subject, and its region still picks the local
    department (Hangzhou's for a Hangzhou resident), as the number itself would."""
    resident = factories.person(region="330106", name="钱大伟")
    world.penalty(resident, source="hz_amr")
    ref = world.ctx.keys.key_for_code(resident.code)
    filed = _file(world, None, code=ref, type_code="pricing.violation", about="钱大伟")
    assert filed.department == "hz_amr"
    with world.ctx.sessions() as session:
        subject = session.scalar(select(Subject).where(Subject.key == ref))
        assert subject is not None
        assert filed.subject_id == subject.id
