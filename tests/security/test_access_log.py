"""Every look at and every change to a subject's file is in its access log, including the
ones made for many subjects at once: a batch screening, a department amending its records.

The subject reads the log on /me, at ``GET /api/v1/me/access-log`` and in its full credit
report (``bonafides report CODE --view full``); all three are checked. Both stores.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from bonafides.app.reports import issue_report
from bonafides.app.screening import screen_file
from bonafides.disclosure import Audience
from bonafides.reports.model import ReportRequest, View
from bonafides.rules.records import write_records
from bonafides.security import audit
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import AuditEvent
from tests import factories
from tests.security.test_portal_pages import _sign_in
from tests.security.world import World, api


def _log(client: TestClient, world: World, username: str) -> list[dict[str, Any]]:
    answer = client.get(
        "/api/v1/me/access-log", headers={"Authorization": f"Bearer {world.key(username)}"}
    )
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


def _full_report_log(world: World, code: str) -> list[dict[str, Any]]:
    """The access log as the subject's full report (and so the CLI) prints it."""
    signed = issue_report(
        world.ctx,
        ReportRequest(code=code, view=View.FULL, audience=Audience.SUBJECT),
        actor="test",
    )
    log: list[dict[str, Any]] = signed.document["access_log"]
    return log


def test_a_batch_screening_is_in_each_screened_subjects_log(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    firm, person, other = factories.org(), factories.person(), factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("person", Role.SUBJECT, subject=person)
    world.account("other", Role.SUBJECT, subject=other)
    for subject in (firm, person, other):
        world.penalty(subject)
    codes = tmp_path / "tender.csv"
    codes.write_text(
        f"code\n{firm.code}\n{person.code}\n{firm.code}\nnot a code\n{factories.org().code}\n",
        encoding="utf-8",
    )
    report = screen_file(
        world.ctx,
        codes,
        action="procurement.bid",
        inquirer="user:buyer@mof",
        purpose="政府采购投标审查",
        department="mof",
    )
    batch = f"certificate {report.cert_id}"
    with api(settings, world) as client:
        for username, line in (("firm", 2), ("person", 3)):
            seen = [
                e for e in _log(client, world, username) if e["tag"] == "screening:check:issued"
            ]
            assert len(seen) == 1, (username, seen)
            assert seen[0]["what"] == f"{batch}.{line}", "the first line naming the subject"
            assert seen[0]["department"] == "mof"
            assert seen[0]["purpose"] == "政府采购投标审查"
            assert seen[0]["action"] == "procurement.bid"
            assert seen[0]["actor"] == "user:buyer@mof"
            assert dt.datetime.fromisoformat(seen[0]["at"]).date() == dt.datetime.now(dt.UTC).date()
        assert not [e for e in _log(client, world, "other") if batch in (e["what"] or "")]

        _sign_in(client, "firm")
        page = client.get("/me").text
        assert f"{report.cert_id}.2" in page  # the page names the certificate in its language
        assert "政府采购投标审查" in page
        assert "procurement.bid" in page

    printed = _full_report_log(world, firm.code)
    assert any(
        e["tag"] == "screening:check:issued" and e["purpose"] == "政府采购投标审查" for e in printed
    )

    with world.ctx.sessions() as session:
        assert audit.verify(session).ok
        events = session.scalars(select(AuditEvent).where(AuditEvent.object_ref == batch)).all()
    assert len(events) == 1, "one chained event for the whole batch"
    assert events[0].detail["subjects"] == 2


def test_an_amendment_by_the_source_is_in_the_subjects_log(
    world: World, settings: Settings
) -> None:
    firm, other = factories.org(), factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("other", Role.SUBJECT, subject=other)
    first = factories.penalty(firm, decision_no="京市监罚〔2026〕77号", fine="1.5")
    record_id = world.store(first, factories.penalty(other))[0]
    with world.ctx.sessions.begin() as session:
        amended = factories.penalty(firm, decision_no="京市监罚〔2026〕77号", fine="2.5")
        write_records(
            session,
            world.ctx.keys,
            [amended, factories.penalty(factories.org())],
            actor="user:clerk@samr",
            amend_reason="fine corrected by the source",
        )
    with api(settings, world) as client:
        changes = [e for e in _log(client, world, "firm") if e["actor"] == "user:clerk@samr"]
        assert len(changes) == 1, changes
        assert changes[0]["what"] == f"record {record_id} v2"
        assert changes[0]["department"] == "samr"
        assert not [e for e in _log(client, world, "other") if e["actor"] == "user:clerk@samr"]
    printed = _full_report_log(world, firm.code)
    assert any(e["actor"] == "user:clerk@samr" for e in printed)
    with world.ctx.sessions() as session:
        assert audit.verify(session).ok
