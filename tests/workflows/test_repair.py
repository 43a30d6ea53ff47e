"""Credit repair: eligibility from the record type, the application with evidence and a
signed commitment, the department's decision, and the lists and measures ending."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bonafides.app.screening import check
from bonafides.catalogue import Period, load_catalogue
from bonafides.records import RecordStatus, SubjectRef
from bonafides.security import audit
from bonafides.security.roles import Role
from bonafides.store.tables import AuditEvent, Commitment, ListEntry, RepairApplication
from bonafides.workflows import attachments, repair
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    TooEarlyError,
)
from tests import factories
from tests.security.world import World, record_of

#: Also on PostgreSQL partitioned by subject (migration 0031).
pytestmark = pytest.mark.partitioned

CATALOGUE = load_catalogue()
RECEIPT = attachments.Upload("paid.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
COMMITMENT = "本单位承诺依法诚信经营，按时履行行政处罚决定，如有违反愿承担相应责任。"
EVIDENCE = "The annual report for 2025 was filed and published on the system."


def _apply(world: World, record_id: int, **kw: object) -> RepairApplication:
    with world.ctx.sessions.begin() as session:
        return repair.apply(
            session,
            world.services(),
            world.principal("firm"),
            record_id=record_id,
            evidence=str(kw.get("evidence", EVIDENCE)),
            commitment=str(kw.get("commitment", COMMITMENT)),
            uploads=kw.get("uploads", [RECEIPT]),  # type: ignore[arg-type]
        )


def _decide(world: World, application_id: int, *, approve: bool, who: str = "clerk") -> None:
    with world.ctx.sessions.begin() as session:
        repair.decide(
            session,
            world.services(),
            world.principal(who),
            application_id,
            approve=approve,
            reasons="Obligations verified against the registry.",
        )


@pytest.fixture
def firm(world: World) -> SubjectRef:
    subject = factories.org()
    world.account("firm", Role.SUBJECT, subject=subject)
    world.account("clerk", Role.OFFICER, department="samr")
    return subject


def test_eligibility_rules() -> None:
    penalty = CATALOGUE.type("market.penalty")
    decided = dt.date(2026, 1, 31)

    def verdict(today: dt.date, severity: str = "general", **kw: object) -> repair.Eligibility:
        return repair.eligibility(
            penalty,
            decision_date=decided,
            severity=severity,
            status=str(kw.get("status", "active")),
            published_until=dt.date(2027, 1, 31),
            today=today,
        )

    early = verdict(dt.date(2026, 3, 1))
    assert not early.eligible
    assert early.possible_from == dt.date(2026, 4, 30), "3 months for general, end of month"
    assert verdict(dt.date(2026, 4, 30)).eligible
    assert verdict(dt.date(2026, 4, 30), "serious").possible_from == dt.date(2027, 1, 31)
    assert verdict(dt.date(2026, 2, 1), "minor").eligible
    assert not verdict(dt.date(2026, 6, 1), status="under_objection").eligible
    defaulter = CATALOGUE.type("courts.defaulter")
    assert not repair.eligibility(
        defaulter,
        decision_date=decided,
        severity=None,
        status="active",
        published_until=dt.date(2030, 1, 1),
        today=dt.date(2029, 1, 1),
    ).eligible
    safety = CATALOGUE.type("construction.quality_safety_violation")
    assert safety.min_months_before_repair == 6
    assert repair.minimum_months(safety, None) == 6


def test_evidence_in_four_chinese_characters_is_enough(world: World, firm: SubjectRef) -> None:
    record_id = world.penalty(firm, days_ago=200)
    assert _apply(world, record_id, evidence="现场核验").evidence == "现场核验"


def test_too_early_is_refused_with_the_date(world: World, firm: SubjectRef) -> None:
    record_id = world.penalty(firm, days_ago=10)
    decided = world.record(record_id).decision_date
    with pytest.raises(TooEarlyError) as refused:
        _apply(world, record_id)
    assert refused.value.possible_from == Period(months=3).add_to(decided)
    assert refused.value.possible_from.isoformat() in str(refused.value)
    with world.ctx.sessions() as session:
        verdict = repair.check(session, world.services(), world.principal("firm"), record_id)
        assert verdict.possible_from == refused.value.possible_from


def test_repair_ends_publication_lists_and_measures(world: World, firm: SubjectRef) -> None:
    listing = record_of(
        "market.abnormal_operations",
        firm,
        source="samr",
        decided=world.today - dt.timedelta(days=40),
        content={"abnormal_reason": "no_annual_report"},
    )
    (record_id,) = world.store(listing)
    with world.ctx.sessions() as session:
        (entry,) = session.scalars(
            select(ListEntry).where(
                ListEntry.status == "current", ListEntry.list_code == "market.abnormal_operations"
            )
        ).all()
    assert entry.valid_until > world.today
    before = check(world.ctx, firm.code, "procurement.bid", inquirer="t", purpose="test")
    assert before.status == "measures_apply"

    with pytest.raises(InvalidError, match="attach the evidence"):
        _apply(world, record_id, uploads=[])
    with pytest.raises(InvalidError, match="commitment"):
        _apply(world, record_id, commitment="I promise.")
    application = _apply(world, record_id)
    assert application.due_on == world.services().deadlines.calendar.add_working_days(
        world.today, 3
    )
    with pytest.raises(ConflictError, match="still being decided"):
        _apply(world, record_id)
    world.account("mee.clerk", Role.OFFICER, department="mee")
    with pytest.raises(NotFoundError):
        _decide(world, application.id, approve=True, who="mee.clerk")
    world.account("ops", Role.OPERATOR)
    with pytest.raises(ForbiddenError):
        _decide(world, application.id, approve=True, who="ops")
    _decide(world, application.id, approve=True)

    assert world.record(record_id).status == RecordStatus.REPAIRED
    with world.ctx.sessions() as session:
        current = session.scalars(
            select(ListEntry).where(
                ListEntry.status == "current",
                ListEntry.list_code == "market.abnormal_operations",
            )
        ).all()
        assert all(e.valid_until < world.today for e in current), "the entry has ended"
        commitment = session.scalars(select(Commitment)).one()
        assert commitment.text == COMMITMENT
        signing = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "commitment:commitment:signed")
        ).one()
        assert commitment.audit_hash == signing.hash
        assert signing.detail["digest"] == commitment.digest
        assert audit.verify(session).ok
    after = check(world.ctx, firm.code, "procurement.bid", inquirer="t", purpose="test")
    assert after.status == "clear"


def test_refused_application_leaves_the_record_and_allows_another(
    world: World, firm: SubjectRef
) -> None:
    record_id = world.penalty(firm, days_ago=120)
    first = _apply(world, record_id)
    _decide(world, first.id, approve=False)
    assert world.record(record_id).status == RecordStatus.ACTIVE
    with pytest.raises(ConflictError, match="already refused"):
        _decide(world, first.id, approve=True)
    second = _apply(world, record_id)
    assert second.id != first.id
