"""Single checks: answers with reasons, certificates, verification, and principles 2 and 3."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bonafides.app.screening import check, verify
from bonafides.context import Context
from bonafides.records import RecordStatus, digest
from bonafides.rules.records import change_status
from bonafides.screening import service
from bonafides.screening.service import (
    InvalidCodeError,
    UnknownActionError,
    UnknownCertificateError,
)
from bonafides.security import audit
from bonafides.store.tables import AuditEvent, Check, ListEntry
from tests import factories
from tests.rules.fixtures import Write

#: Also on PostgreSQL partitioned by subject (migration 0031).
pytestmark = pytest.mark.partitioned

LISTED = dt.date(2025, 6, 1)
DAY = dt.date(2026, 1, 15)


def ask(ctx: Context, code: str, action: str = "procurement.bid", day: dt.date = DAY) -> dict:  # type: ignore[type-arg]
    return check(ctx, code, action, as_of=day, inquirer="test@mof", purpose="tender 42").answer


def test_a_defaulter_is_barred_from_procurement_with_reasons(ctx: Context, write: Write) -> None:
    firm = factories.org()
    item = write("courts.defaulter", firm, LISTED, performance="none")
    result = check(
        ctx, firm.code, "procurement.bid", as_of=DAY, inquirer="test@mof", purpose="tender 42"
    )
    answer = result.answer
    assert answer["status"] == "measures_apply"
    (measure,) = [m for m in answer["measures"] if m["measure"] == "defaulters.procurement"]
    assert measure["effect"] == "prohibit"
    assert measure["department"] == "mof"
    assert "《中华人民共和国政府采购法》第二十二条" in measure["legal_basis"]
    assert measure["until"] == "2027-05-31"
    (entry,) = measure["entries"]
    assert entry["rule"] == "courts.defaulters#1"
    assert (entry["valid_from"], entry["valid_until"]) == ("2025-06-01", "2027-05-31")
    assert entry["records"][0]["decision_no"] == item.decision_no
    assert result.digest == digest(answer)
    with ctx.sessions() as session:
        stored = session.scalars(select(Check)).one()
        assert (stored.cert_id, stored.purpose, stored.digest) == (
            result.cert_id,
            "tender 42",
            result.digest,
        )
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "screening:check:issued")
        ).all()
        assert [e.purpose for e in events] == ["tender 42"]
        assert audit.verify(session).ok


def test_certificate_ids_are_random_and_url_safe(ctx: Context) -> None:
    ids = {
        check(ctx, factories.org().code, "procurement.bid", inquirer="t", purpose="p").cert_id
        for _ in range(5)
    }
    assert len(ids) == 5
    assert all(len(i) == 24 and i.replace("-", "").replace("_", "").isalnum() for i in ids)


def test_a_measure_never_reaches_an_action_it_does_not_name(ctx: Context, write: Write) -> None:
    """Principle 3: no defaulter measure names customs clearance, so a defaulter is clear."""
    firm = factories.org()
    write("courts.defaulter", firm, LISTED, performance="none")
    assert ask(ctx, firm.code, "customs.clearance")["status"] == "clear"
    assert ask(ctx, firm.code, "travel.premium")["status"] == "measures_apply"


def test_nothing_applies_before_or_after_the_term(ctx: Context, write: Write) -> None:
    firm = factories.org()
    write("courts.defaulter", firm, LISTED, performance="none")
    assert ask(ctx, firm.code, day=dt.date(2025, 5, 31))["status"] == "clear"
    assert ask(ctx, firm.code, day=dt.date(2027, 5, 31))["status"] == "measures_apply"
    assert ask(ctx, firm.code, day=dt.date(2027, 6, 1))["status"] == "clear"


def test_measure_duration_is_shorter_than_the_entry_when_it_says_so(
    ctx: Context, write: Write
) -> None:
    """market.executive lasts 36 months; the serious-list entry it follows also ends then,
    but the measure's own end is what the answer gives."""
    firm = factories.org()
    write("market.serious_violation_list", firm, LISTED, source="samr", violation_class="other")
    answer = ask(ctx, firm.code, "executive.appointment", day=dt.date(2026, 6, 1))
    (measure,) = answer["measures"]
    assert (measure["measure"], measure["until"]) == ("market.executive", "2028-05-31")


@pytest.mark.parametrize("status", [RecordStatus.REVOKED, RecordStatus.REPAIRED])
def test_revocation_or_repair_ends_entries_and_measures_the_same_day(
    ctx: Context, write: Write, status: RecordStatus
) -> None:
    firm = factories.org()
    item = write("courts.defaulter", firm, LISTED, performance="none")
    # The credit office's day, which a repair ends entries by: the machine's date
    # differs from it for hours each day.
    today = ctx.today()
    assert ask(ctx, firm.code, day=today)["status"] == "measures_apply"
    with ctx.sessions.begin() as session:
        change_status(
            session,
            source="spc",
            decision_no=item.decision_no,
            status=status,
            actor="spc",
            reason="test",
        )
    assert ask(ctx, firm.code, day=today)["status"] == "clear"
    with ctx.sessions() as session:
        rows = session.scalars(select(ListEntry).order_by(ListEntry.id)).all()
    assert rows[0].status == "superseded"
    current = [r for r in rows if r.status == "current"]
    if status is RecordStatus.REPAIRED:
        # Repair is not retroactive: the entry stays on record up to the day before.
        (entry,) = current
        assert (entry.valid_until, entry.until_basis) == (
            today - dt.timedelta(days=1),
            "record_ended",
        )
        assert ask(ctx, firm.code, day=today - dt.timedelta(days=1))["status"] == "measures_apply"
    else:
        # A revoked decision never stood: no entry remains for any day.
        assert current == []
        assert ask(ctx, firm.code, day=LISTED)["status"] == "clear"


def test_unknown_valid_code_is_answered_and_certified(ctx: Context) -> None:
    result = check(ctx, factories.org().code, "procurement.bid", inquirer="t", purpose="p")
    assert result.answer["status"] == "unknown"
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Check)) == 1


def test_person_codes_are_masked_in_answers(ctx: Context, write: Write) -> None:
    someone = factories.person()
    write("courts.defaulter", someone, LISTED, performance="none")
    answer = ask(ctx, someone.code, "travel.premium")
    assert answer["status"] == "measures_apply"
    assert someone.code not in str(answer)
    assert answer["code"].startswith(someone.code[:6] + "********")


def test_bad_input_is_refused(ctx: Context) -> None:
    with pytest.raises(InvalidCodeError):
        check(ctx, "91110105000000019X", "procurement.bid", inquirer="t", purpose="p")
    with pytest.raises(UnknownActionError):
        check(ctx, factories.org().code, "rumour.spreading", inquirer="t", purpose="p")
    with pytest.raises(UnknownCertificateError):
        verify(ctx, "no-such-certificate", actor="t")


def test_verify_shows_then_and_whether_it_differs_now(ctx: Context, write: Write) -> None:
    firm = factories.org()
    item = write("courts.defaulter", firm, LISTED, performance="none")
    issued = check(ctx, firm.code, "procurement.bid", as_of=DAY, inquirer="t", purpose="p")
    first = verify(ctx, issued.cert_id, actor="auditor")
    assert first.intact
    assert first.same_now
    assert first.answer == issued.answer
    with ctx.sessions.begin() as session:
        change_status(
            session,
            source="spc",
            decision_no=item.decision_no,
            status=RecordStatus.REVOKED,
            actor="spc",
            reason="court revoked the listing",
        )
    later = verify(ctx, issued.cert_id, actor="auditor")
    assert later.intact
    assert not later.same_now
    assert later.answer["status"] == "measures_apply"
    assert later.answer_now["status"] == "clear"
    with ctx.sessions.begin() as session:
        stored = session.scalars(select(Check)).one()
        stored.answer = {**stored.answer, "status": "clear"}
    assert not verify(ctx, issued.cert_id, actor="auditor").intact


def test_red_list_rewards_apply_to_a_taxpayers_a_grade(ctx: Context, write: Write) -> None:
    firm = factories.org()
    write(
        "tax.credit_grade", firm, dt.date(2025, 4, 1), source="sta", grade="A", evaluation_year=2024
    )
    answer = ask(ctx, firm.code, "procurement.bid", day=dt.date(2025, 10, 1))
    assert [m["measure"] for m in answer["measures"]] == ["a_grade.procurement"]
    assert answer["measures"][0]["effect"] == "prefer"
    # A later major tax violation ends the entry the day before it was decided.
    write(
        "tax.major_violation", firm, dt.date(2025, 11, 1), source="sta", case_nature="tax_evasion"
    )
    assert (
        ask(ctx, firm.code, "tax.invoice", day=dt.date(2025, 10, 31))["measures"][0]["effect"]
        == "waive"
    )
    later = ask(ctx, firm.code, "tax.invoice", day=dt.date(2025, 11, 1))
    assert [m["effect"] for m in later["measures"]] == ["restrict"]


def test_checks_keep_the_audit_chain_whole_from_the_first_event_on(
    ctx: Context, write: Write
) -> None:
    """On PostgreSQL a check claims the audit head in the statement that reads the file;
    the very first event (no head yet), known and unknown subjects, and checks between
    other audited writes must all link up."""
    firm = factories.org()
    codes = [factories.org().code, firm.code, factories.org().code, firm.code]
    results = [check(ctx, codes[0], "procurement.bid", inquirer="t", purpose="first")]
    write("courts.defaulter", firm, LISTED, performance="none")
    results += [check(ctx, c, "procurement.bid", inquirer="t", purpose="p") for c in codes[1:]]
    expected = ["unknown", "measures_apply", "unknown", "measures_apply"]
    assert [r.status for r in results] == expected
    with ctx.sessions() as session:
        assert audit.verify(session).ok
        stored = {c.cert_id: c.digest for c in session.scalars(select(Check))}
        assert stored == {r.cert_id: r.digest for r in results}
        issued = session.scalars(
            select(AuditEvent.object_ref)
            .where(AuditEvent.tag == "screening:check:issued")
            .order_by(AuditEvent.id)
        ).all()
        assert issued == [f"certificate {r.cert_id}" for r in results]


def test_certificate_ids_never_start_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """`bonafides verify -xyz…` would read a leading dash as an option (1 id in 64 did)."""
    drawn = iter(["-mQ3pX7Vb1kLr9sT2uYw0ZcEa", "mQ3pX7Vb1kLr9sT2uYw0ZcEa"])
    monkeypatch.setattr("secrets.token_urlsafe", lambda n: next(drawn))
    assert service.new_certificate_id() == "mQ3pX7Vb1kLr9sT2uYw0ZcEa"
