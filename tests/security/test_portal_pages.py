"""The portal's account and due-process pages on both stores: sign in and out with CSRF,
rate limits, registration and its verification, my file, objections and credit repair.

The pages call the services the API calls; these tests check what a browser without
JavaScript gets: forms, redirects, statuses, and that nothing leaks across subjects or
departments.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import Account, AuditEvent, Objection, RepairApplication
from tests import factories
from tests.security.world import PASSWORD, World, api

HIDDEN = re.compile(r'name="csrf" value="([^"]*)"')


def _csrf(page: str) -> str:
    found = HIDDEN.search(page)
    assert found, "the form carries a CSRF field"
    return found.group(1)


def _sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Signs in through the form; returns the session's CSRF token from the landing page."""
    form = client.get("/login")
    assert form.status_code == 200
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": _csrf(form.text), "next": "/me"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    landing = client.get("/me")
    assert landing.status_code == 200, landing.text
    return _csrf(landing.text)


def test_login_form_needs_its_csrf_token_and_sets_a_strict_cookie(
    world: World, settings: Settings
) -> None:
    world.account("ops", Role.OPERATOR)
    with api(settings, world) as client:
        form = client.get("/login")
        assert 'type="password"' in form.text
        assert "SameSite=strict" in form.headers["set-cookie"]
        forged = client.post(
            "/login",
            data={"username": "ops", "password": PASSWORD, "csrf": "forged-token-forged-token"},
        )
        assert forged.status_code == 403
        assert "bonafides_session" not in forged.headers.get("set-cookie", "")
        done = client.post(
            "/login",
            data={"username": "ops", "password": PASSWORD, "csrf": _csrf(form.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/registrations", "an operator lands on its desk"
        cookie = done.headers["set-cookie"]
        assert "bonafides_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Secure" in cookie


def test_wrong_password_is_refused_and_logins_are_rate_limited(
    world: World, settings: Settings
) -> None:
    world.account("ops", Role.OPERATOR)
    with api(settings, world) as client:
        token = _csrf(client.get("/login").text)
        attempt = {"username": "ops", "password": "guess-guess-guess", "csrf": token}
        answers = [client.post("/login", data=attempt) for _ in range(6)]
        assert [a.status_code for a in answers] == [401] * 5 + [429]
        assert "bonafides_session" not in answers[0].headers.get("set-cookie", "")
        assert answers[0].headers["RateLimit-Limit"] == "5"
        assert int(answers[-1].headers["Retry-After"]) >= 1
        right = client.post("/login", data={**attempt, "password": PASSWORD})
        assert right.status_code == 429, "the page shares the API's buckets"
        api_login = client.post("/api/v1/login", json={"username": "ops", "password": PASSWORD})
        assert api_login.status_code == 429


def test_logout_needs_the_session_csrf_token(world: World, settings: Settings) -> None:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.penalty(firm)
    with api(settings, world) as client:
        csrf = _sign_in(client, "firm")
        assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
        assert client.get("/me").status_code == 200, "still signed in"
        out = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
        assert out.status_code == 303
        again = client.get("/me", follow_redirects=False)
        assert again.status_code == 303
        assert again.headers["location"].startswith("/login?next=/me")


def test_my_file_shows_records_log_and_notifications_and_no_one_elses(
    world: World, settings: Settings
) -> None:
    firm, other = factories.org(name="甲公司"), factories.org(name="乙公司")
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("other", Role.SUBJECT, subject=other)
    world.account("banker", Role.INQUIRER, department="pboc")
    mine = world.penalty(firm)
    theirs = world.penalty(other)
    with api(settings, world) as client:
        headers = {"Authorization": f"Bearer {world.key('banker')}"}
        read = client.get(
            f"/api/v1/files/{firm.code}",
            headers=headers,
            params={"purpose": "loan application review"},
        )
        assert read.status_code == 200
        _sign_in(client, "firm")
        page = client.get("/me").text
        assert firm.code in page
        assert other.code not in page
        assert f"/objections/new?record={mine}" in page
        assert "loan application review" in page, "the access log names the purpose"
        assert "中国人民银行" in page, "the department by its name, not its code"
        assert client.get(f"/objections/new?record={theirs}").status_code == 404
        assert client.get(f"/repairs/new?record={theirs}").status_code == 404
        csrf = _csrf(page)
        assert client.post("/me/report", data={"csrf": "forged"}).status_code == 403
        drawn = client.post("/me/report", data={"csrf": csrf}, follow_redirects=False)
        assert drawn.status_code == 303, drawn.text
        assert drawn.headers["location"].startswith("/api/v1/reports/")
        pdf = client.get(drawn.headers["location"])
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        report_id = drawn.headers["location"].split("/")[-1].split(".")[0]
        document = client.get(f"/api/v1/reports/{report_id}").json()["document"]
        assert document["view"] == "full"
        assert document["audience"] == "subject"
        client.cookies.clear()
        assert client.get(drawn.headers["location"]).status_code == 401


def test_registration_waits_for_an_operator_to_verify_it(world: World, settings: Settings) -> None:
    firm = factories.org()
    world.penalty(firm)
    world.account("ops", Role.OPERATOR)
    with api(settings, world) as client:
        form = client.get("/register")
        fields = {
            "csrf": _csrf(form.text),
            "code": firm.code,
            "display_name": "Firm Ltd",
            "username": "newfirm",
            "email": "",
            "password": PASSWORD,
            "password2": PASSWORD,
        }
        assert client.post("/register", data={**fields, "csrf": "x" * 30}).status_code == 403
        mismatch = client.post("/register", data={**fields, "password2": "something else"})
        assert mismatch.status_code == 422
        done = client.post("/register", data=fields)
        assert done.status_code == 200, done.text
        assert firm.code in done.text
        _sign_in(client, "newfirm")
        waiting = client.get("/me").text
        assert "/objections/new" not in waiting, "no file before verification"
        client.cookies.clear()
        csrf = _sign_in(client, "ops")
        desk = client.get("/registrations").text
        assert "newfirm" in desk
        wrong = client.post(
            "/registrations/newfirm",
            data={"csrf": csrf, "action": "bind", "code": factories.org().code, "note": "seen"},
        )
        assert wrong.status_code == 422
        bound = client.post(
            "/registrations/newfirm",
            data={"csrf": csrf, "action": "bind", "code": firm.code, "note": "licence seen"},
        )
        assert bound.status_code == 200, bound.text
        assert "newfirm" not in bound.text.split("<h1>", 1)[1].split("</table>")[0]
        client.cookies.clear()
        _sign_in(client, "newfirm")
        assert "/objections/new" in client.get("/me").text
    with world.ctx.sessions() as session:
        tags = session.scalars(select(AuditEvent.tag)).all()
        account = session.scalar(select(Account).where(Account.username == "newfirm"))
    assert account is not None
    assert account.created_by == "self-registration"
    assert "accounts:account:bound" in tags


def test_objection_from_my_file_to_the_departments_answer(world: World, settings: Settings) -> None:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("cnipa", Role.OFFICER, department="cnipa")
    record = world.penalty(firm)
    hostile = "<script>alert(1)</script> the fine was paid before the decision"
    with api(settings, world) as client:
        csrf = _sign_in(client, "firm")
        form = client.get(f"/objections/new?record={record}")
        assert form.status_code == 200
        data = {"csrf": csrf, "record": str(record), "grounds": hostile}
        files = [("files", ("receipt.txt", b"paid 2026-01-02", "text/plain"))]
        forged = client.post("/objections", data={**data, "csrf": "nope"}, files=files)
        assert forged.status_code == 403
        opened = client.post("/objections", data=data, files=files, follow_redirects=False)
        assert opened.status_code == 303, opened.text
        page = client.get(opened.headers["location"]).text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "receipt.txt" in page
        assert 'name="outcome"' not in page, "a subject does not answer"
        number = int(opened.headers["location"].rsplit("/", 1)[1])
        assert f"/objections/{number}" in client.get("/objections").text
        client.cookies.clear()
        other_csrf = _sign_in(client, "cnipa")
        assert client.get(f"/objections/{number}").status_code == 404
        assert f"/objections/{number}" not in client.get("/objections").text
        refused = client.post(
            f"/objections/{number}/decision",
            data={"csrf": other_csrf, "outcome": "upheld", "reasons": "x" * 20},
        )
        assert refused.status_code == 404
        client.cookies.clear()
        clerk = _sign_in(client, "clerk")
        assert f"/objections/{number}" in client.get("/objections").text
        assert 'name="outcome"' in client.get(f"/objections/{number}").text
        short = client.post(
            f"/objections/{number}/decision",
            data={"csrf": clerk, "outcome": "upheld", "reasons": "no"},
        )
        assert short.status_code == 422
        decided = client.post(
            f"/objections/{number}/decision",
            data={"csrf": clerk, "outcome": "upheld", "reasons": "The payment came later."},
            follow_redirects=False,
        )
        assert decided.status_code == 303, decided.text
    with world.ctx.sessions() as session:
        objection = session.get(Objection, number)
        assert objection is not None
        assert objection.outcome == "upheld"
        reads = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "access:subject:read")
        ).all()
    assert any("clerk" in e.actor and e.object_ref == f"objection {number}" for e in reads)


def test_repair_too_early_names_the_date_and_a_signed_application_goes_through(
    world: World, settings: Settings
) -> None:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    early = world.penalty(firm, days_ago=5)
    ripe = world.penalty(firm, days_ago=120)
    with api(settings, world) as client:
        csrf = _sign_in(client, "firm")
        refused = client.get(f"/repairs/new?record={early}")
        assert refused.status_code == 200
        assert 'name="evidence"' not in refused.text
        assert re.search(r"\d{4}-\d{2}-\d{2}", refused.text.split("<h1>", 1)[1])
        form = client.get(f"/repairs/new?record={ripe}")
        assert 'name="evidence"' in form.text, "four months on, a general penalty can be repaired"
        data = {
            "csrf": csrf,
            "record": str(ripe),
            "evidence": "The fine was paid in full on 2026-01-02.",
            "commitment": "本单位承诺诚信经营，遵守法律法规，如有违反愿承担责任。",
        }
        files = [("files", ("receipt.pdf", b"%PDF-1.4 receipt", "application/pdf"))]
        unsigned = client.post("/repairs", data=data, files=files)
        assert unsigned.status_code == 422
        applied = client.post(
            "/repairs", data={**data, "sign": "yes"}, files=files, follow_redirects=False
        )
        assert applied.status_code == 303, applied.text
        number = int(applied.headers["location"].rsplit("/", 1)[1])
        client.cookies.clear()
        clerk = _sign_in(client, "clerk")
        assert f"/repairs/{number}" in client.get("/repairs").text
        decided = client.post(
            f"/repairs/{number}/decision",
            data={"csrf": clerk, "decision": "approve", "reasons": "paid"},
            follow_redirects=False,
        )
        assert decided.status_code == 303, decided.text
    with world.ctx.sessions() as session:
        application = session.get(RepairApplication, number)
        assert application is not None
        assert application.status == "repaired"


def test_the_operator_sees_escalated_objections(world: World, settings: Settings) -> None:
    from bonafides.workflows import objections

    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("ops", Role.OPERATOR)
    record = world.penalty(firm)
    with world.ctx.sessions.begin() as session:
        opened = objections.open_objection(
            session,
            world.services(),
            world.principal("firm"),
            record_id=record,
            grounds="The fine was paid before the decision.",
        ).id
    world.clock.advance(days=40)
    services = world.services()
    with world.ctx.sessions.begin() as session:
        objections.escalate(session, services.deadlines, services.notifier, actor="cron")
    with api(settings, world) as client:
        _sign_in(client, "ops")
        escalated = client.get("/objections?escalated=1")
        assert escalated.status_code == 200
        assert f"/objections/{opened}" in escalated.text
        assert '<span class="badge">已上报</span>' in escalated.text
        detail = client.get(f"/objections/{opened}")
        assert detail.status_code == 200
        assert 'name="outcome"' not in detail.text, "the operator does not answer for a department"


def test_private_answers_are_never_stored_by_caches(world: World, settings: Settings) -> None:
    """/me, /api/v1/me/*, full reports and every answer to a signed-in request carry
    ``Cache-Control: no-store``; public pages for the anonymous stay cacheable."""
    firm = factories.org(name="甲公司")
    world.account("firm", Role.SUBJECT, subject=firm)
    world.penalty(firm)
    with api(settings, world) as client:
        public = [client.get(path) for path in ("/", "/api/v1/catalogue")]
        assert all(r.status_code == 200 for r in public)
        assert all("no-store" not in r.headers.get("cache-control", "") for r in public)
        anonymous_me = client.get("/me", follow_redirects=False)
        assert "no-store" in anonymous_me.headers["cache-control"]
        csrf = _sign_in(client, "firm")
        drawn = client.post("/me/report", data={"csrf": csrf}, follow_redirects=False)
        assert drawn.status_code == 303
        report_id = drawn.headers["location"].split("/")[-1].split(".")[0]
        for path in (
            "/me",
            "/api/v1/me",
            "/api/v1/me/file",
            "/api/v1/me/access-log",
            "/api/v1/me/notifications",
            drawn.headers["location"],
            f"/api/v1/reports/{report_id}",
            "/",
        ):
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["cache-control"] == "no-store", path


def test_an_objection_answered_twice_shows_the_decision_on_file(
    world: World, settings: Settings
) -> None:
    """Two officers answering at once: the second gets the objection page with a notice
    naming the decision already taken, not an error page; the first answer stands."""
    from bonafides.workflows import objections

    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    record = world.penalty(firm)
    with world.ctx.sessions.begin() as session:
        number = objections.open_objection(
            session,
            world.services(),
            world.principal("firm"),
            record_id=record,
            grounds="The fine was paid before the decision.",
        ).id
    with api(settings, world) as client:
        clerk = _sign_in(client, "clerk")
        answer = {"csrf": clerk, "outcome": "upheld", "reasons": "The payment came later."}
        first = client.post(f"/objections/{number}/decision", data=answer, follow_redirects=False)
        assert first.status_code == 303, first.text
        second = client.post(
            f"/objections/{number}/decision", data={**answer, "outcome": "revoked"}
        )
        assert second.status_code == 200, second.text
        assert 'class="notice decided"' in second.text
        assert 'name="outcome"' not in second.text
        assert "The payment came later." in second.text, "the decision on file is shown"
    with world.ctx.sessions() as session:
        objection = session.get(Objection, number)
        assert objection is not None
        assert objection.outcome == "upheld"


def test_a_repair_decided_twice_shows_the_decision_on_file(
    world: World, settings: Settings
) -> None:
    from bonafides.workflows import repair
    from bonafides.workflows.attachments import Upload

    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    record = world.penalty(firm, days_ago=150)
    with world.ctx.sessions.begin() as session:
        number = repair.apply(
            session,
            world.services(),
            world.principal("firm"),
            record_id=record,
            evidence="The fine was paid in full on 2026-01-02.",
            commitment="本单位承诺诚信经营，遵守法律法规，如有违反愿承担责任。",
            uploads=[Upload("receipt.pdf", "application/pdf", b"%PDF-1.4 receipt")],
        ).id
    with api(settings, world) as client:
        clerk = _sign_in(client, "clerk")
        decision = {"csrf": clerk, "decision": "approve", "reasons": "Payment confirmed."}
        first = client.post(f"/repairs/{number}/decision", data=decision, follow_redirects=False)
        assert first.status_code == 303, first.text
        second = client.post(f"/repairs/{number}/decision", data={**decision, "decision": "refuse"})
        assert second.status_code == 200, second.text
        assert 'class="notice decided"' in second.text
        assert 'name="decision"' not in second.text
        assert "Payment confirmed." in second.text
    with world.ctx.sessions() as session:
        application = session.get(RepairApplication, number)
        assert application is not None
        assert application.status == "repaired"
