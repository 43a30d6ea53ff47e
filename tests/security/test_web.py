"""Web security of the API: cookies, CSRF, rate limits with their headers, strict headers,
no user input rendered as markup, bound parameters only. Both stores."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bonafides.api.app import create_app
from bonafides.http.middleware import CONTENT_SECURITY_POLICY
from bonafides.security.ratelimit import TokenBuckets
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import Account
from tests import factories
from tests.security.world import PASSWORD, World, api


class Ticks:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


SRC = Path(__file__).resolve().parents[2] / "src" / "bonafides"


def _login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def test_session_cookie_is_httponly_strict_and_secure(world: World, settings: Settings) -> None:
    world.account("ops", Role.OPERATOR)
    with api(settings, world) as client:
        response = client.post("/api/v1/login", json={"username": "ops", "password": PASSWORD})
        cookie = response.headers["set-cookie"]
        assert "bonafides_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Secure" in cookie
        assert response.json()["csrf_token"] not in cookie
    demo = settings.model_copy(update={"demo": True})
    with api(demo, world) as client:
        cookie = client.post(
            "/api/v1/login", json={"username": "ops", "password": PASSWORD}
        ).headers["set-cookie"]
        assert "Secure" not in cookie, "demo mode runs on plain http://127.0.0.1"
        assert "HttpOnly" in cookie


def test_cookie_session_needs_the_csrf_token_for_writes(world: World, settings: Settings) -> None:
    world.account("ops", Role.OPERATOR)
    body = {"username": "newone", "role": "operator", "display_name": "N", "password": PASSWORD}
    with api(settings, world) as client:
        csrf = _login(client, "ops")
        assert client.get("/api/v1/me").json()["via"] == "session", "reads need no token"
        assert client.post("/api/v1/accounts", json=body).status_code == 403
        forged = {"X-CSRF-Token": "forged"}
        assert client.post("/api/v1/accounts", json=body, headers=forged).status_code == 403
        assert client.post("/api/v1/accounts", json=body, headers=csrf).status_code == 201
        assert client.post("/api/v1/logout").status_code == 403
        assert client.post("/api/v1/logout", headers=csrf).status_code == 204
        assert client.get("/api/v1/me").status_code == 401, "the session has ended"


def test_wrong_password_and_unknown_user_look_alike(world: World, settings: Settings) -> None:
    world.account("ops", Role.OPERATOR)
    with api(settings, world) as client:
        wrong = client.post("/api/v1/login", json={"username": "ops", "password": "nope" * 4})
        unknown = client.post("/api/v1/login", json={"username": "ghost", "password": "nope" * 4})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_login_is_rate_limited_per_address(world: World, settings: Settings) -> None:
    world.account("ops", Role.OPERATOR)
    app = create_app(settings)
    app.state.clock = world.clock
    attempt = {"username": "ops", "password": "guess-guess-guess"}
    with TestClient(app, base_url="https://testserver", client=("10.0.0.1", 1)) as one:
        answers = [one.post("/api/v1/login", json=attempt) for _ in range(6)]
        assert [a.status_code for a in answers] == [401] * 5 + [429]
        assert answers[0].headers["RateLimit-Limit"] == "5"
        assert answers[0].headers["RateLimit-Remaining"] == "4"
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert answers[-1].headers["content-type"] == "application/problem+json"
        other_user = one.post("/api/v1/login", json={**attempt, "username": "someone"})
        assert other_user.status_code == 429, "the address is spent"


def test_an_attacker_on_one_address_cannot_lock_the_owner_out(
    world: World, settings: Settings
) -> None:
    world.account("ops", Role.OPERATOR)
    app = create_app(settings)
    app.state.clock = world.clock
    attempt = {"username": "ops", "password": "guess-guess-guess"}
    with TestClient(app, base_url="https://testserver", client=("10.0.0.1", 1)) as attacker:
        answers = [attacker.post("/api/v1/login", json=attempt) for _ in range(20)]
        assert answers[-1].status_code == 429
    with TestClient(app, base_url="https://testserver", client=("10.0.0.2", 1)) as owner:
        signed_in = owner.post("/api/v1/login", json={**attempt, "password": PASSWORD})
        assert signed_in.status_code == 200, "the owner on another address is not locked out"
        form = owner.get("/login")
        token = re.search(r'name="csrf" value="([^"]*)"', form.text)
        assert token
        page = owner.post(
            "/login",
            data={"username": "ops", "password": PASSWORD, "csrf": token.group(1)},
            follow_redirects=False,
        )
        assert page.status_code == 303, "nor through the portal's form"


def test_one_address_spraying_many_accounts_is_limited(world: World, settings: Settings) -> None:
    app = create_app(settings)
    app.state.clock = world.clock
    with TestClient(app, base_url="https://testserver", client=("10.0.0.3", 1)) as sprayer:
        answers = [
            sprayer.post("/api/v1/login", json={"username": f"user{n}", "password": "x" * 12})
            for n in range(8)
        ]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 3


def test_many_addresses_only_slow_an_account_down(world: World, settings: Settings) -> None:
    """Failures from many addresses empty the account's bucket: a fresh address then waits
    seconds (not a lock-out), and the owner's known address is not held at all."""
    world.account("ops", Role.OPERATOR)
    app = create_app(settings.model_copy(update={"login_account_rate_per_minute": 6}))
    app.state.clock = world.clock
    ticks = Ticks()
    app.state.rate_limiter = TokenBuckets(now=ticks)
    right = {"username": "ops", "password": PASSWORD}
    wrong = {"username": "ops", "password": "guess-guess-guess"}

    def client(address: str) -> TestClient:
        return TestClient(app, base_url="https://testserver", client=(address, 1))

    with client("10.0.0.50") as usual:
        assert usual.post("/api/v1/login", json=right).status_code == 200
    for n in range(3):
        with client(f"10.0.1.{n}") as attacker:
            assert [attacker.post("/api/v1/login", json=wrong).status_code for _ in range(2)] == [
                401,
                401,
            ]
    with client("10.0.1.9") as attacker:
        slowed = attacker.post("/api/v1/login", json=wrong)
        assert slowed.status_code == 429, "the account's bucket is empty"
        assert 1 <= int(slowed.headers["Retry-After"]) <= 10
    with client("10.0.2.1") as fresh:
        assert fresh.post("/api/v1/login", json=right).status_code == 429
        ticks.t += 10
        assert fresh.post("/api/v1/login", json=right).status_code == 200, "only a slow-down"
    with client("10.0.0.50") as usual:
        assert usual.post("/api/v1/login", json=right).status_code == 200, "a known address"


def test_public_search_is_rate_limited_per_address_and_per_key(
    world: World, settings: Settings
) -> None:
    world.account("bank", Role.INQUIRER, department="pboc")
    token = world.key("bank")
    app = create_app(settings)
    with TestClient(app, client=("10.0.0.9", 1)) as client:
        answers = [client.get("/api/v1/search", params={"q": "北京"}) for _ in range(9)]
        assert [a.status_code for a in answers] == [200] * 8 + [429]
        assert answers[0].headers["RateLimit-Limit"] == "8"
        keyed = client.get(
            "/api/v1/search", params={"q": "北京"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert keyed.status_code == 200, "a valid key has its own bucket"
        assert keyed.headers["RateLimit-Remaining"] == "7"
        bogus = client.get(
            "/api/v1/search", params={"q": "x"}, headers={"Authorization": "Bearer bfk_x"}
        )
        assert bogus.status_code == 429, "an invalid key does not escape the address's bucket"


def test_strict_headers_on_every_answer(world: World, settings: Settings) -> None:
    with api(settings, world) as client:
        for response in (
            client.get("/api/v1/me"),
            client.post("/api/v1/login", json={"username": "x", "password": "y"}),
            client.get("/api/v1/objections/1"),
        ):
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert response.headers["x-content-type-options"] == "nosniff"


def test_user_text_is_never_served_as_markup(world: World, settings: Settings) -> None:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    record = world.penalty(firm)
    hostile = "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>"
    with api(settings, world) as client:
        headers = {"Authorization": f"Bearer {world.key('firm')}"}
        opened = client.post(
            "/api/v1/objections",
            headers=headers,
            data={"record_id": str(record), "grounds": hostile},
            files=[("files", ("note.html", hostile.encode(), "text/plain"))],
        )
        assert opened.status_code == 201, opened.text
        assert opened.headers["content-type"] == "application/json"
        assert opened.json()["grounds"] == hostile, "kept as data, as JSON text"
        attachment = opened.json()["attachments"][0]
        download = client.get(f"/api/v1/attachments/{attachment['id']}", headers=headers)
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/plain")
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in download.headers["content-security-policy"]
        clerk = {"Authorization": f"Bearer {world.key('clerk')}"}
        assert (
            client.get(f"/api/v1/attachments/{attachment['id']}", headers=clerk).status_code == 200
        )
        log = client.get("/api/v1/me/access-log", headers=headers).json()["events"]
        assert any(
            e["what"] == f"attachment {attachment['id']}" and e["actor"].endswith(":clerk")
            for e in log
        ), "the department reading the evidence is in the subject's access log"
        world.account("nosy", Role.SUBJECT, subject=factories.org())
        nosy = {"Authorization": f"Bearer {world.key('nosy')}"}
        refused = client.get(f"/api/v1/attachments/{attachment['id']}", headers=nosy)
        assert refused.status_code == 404
        assert refused.json()["title"] == "no such attachment", "nothing about its owner"
        missing = client.get("/api/v1/attachments/999999", headers=nosy)
        assert missing.status_code == 404
        assert missing.json()["title"] == "no such attachment"


def test_injection_in_inputs_stays_data(world: World, settings: Settings) -> None:
    world.account("ops", Role.OPERATOR)
    injected = "ops' OR '1'='1' --"
    with api(settings, world) as client:
        answer = client.post(
            "/api/v1/login", json={"username": injected, "password": "' OR 1=1 --"}
        )
        assert answer.status_code == 401
        token = world.key("ops")
        files = client.get(
            "/api/v1/files/1' OR 1=1 --",
            params={"purpose": "'; DROP TABLE accounts; --"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert files.status_code in (404, 422)
        firm = factories.org()
        world.penalty(firm)
        read = client.get(
            f"/api/v1/files/{firm.code}",
            params={"purpose": "'); DELETE FROM audit_events; --"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert read.status_code == 200
    with world.ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1


def test_sql_is_only_written_with_bound_parameters() -> None:
    """No raw SQL text and no string-built statements in this area's code."""
    modules = [
        *sorted((SRC / "security").glob("*.py")),
        *sorted((SRC / "workflows").glob("*.py")),
        *sorted((SRC / "app" / "due_process").glob("*.py")),
        SRC / "app" / "accounts.py",
        SRC / "store" / "access.py",
        SRC / "http" / "auth.py",
        SRC / "api" / "accounts.py",
        SRC / "api" / "cases.py",
        SRC / "api" / "objections.py",
        SRC / "api" / "repairs.py",
        SRC / "api" / "complaints.py",
        SRC / "api" / "inquiries.py",
        SRC / "commands" / "accounts.py",
    ]
    offences = []
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                names = {alias.name for alias in node.names}
                offences += [f"{path.name}:{node.lineno} imports text"] if "text" in names else []
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            func = node.func
            raw_text = (
                func.attr in ("text", "exec_driver_sql")
                and isinstance(func.value, ast.Name)
                and func.value.id in ("sa", "sqlalchemy")
            )
            string_sql = (
                func.attr in ("execute", "exec_driver_sql")
                and bool(node.args)
                and isinstance(node.args[0], ast.JoinedStr | ast.Constant | ast.BinOp)
            )
            if raw_text or string_sql:
                offences.append(f"{path.name}:{node.lineno}")
    assert offences == []
    assert len(modules) > 15


def test_expired_session_is_anonymous(world: World, settings: Settings) -> None:
    world.account("ops", Role.OPERATOR)
    with api(settings, world) as client:
        _login(client, "ops")
        assert client.get("/api/v1/me").status_code == 200
        world.clock.advance(hours=settings.session_hours, seconds=1)
        assert client.get("/api/v1/me").status_code == 401
    assert dt.timedelta(hours=settings.session_hours) > dt.timedelta(0)


def test_small_routes_refuse_large_bodies_before_parsing(world: World, settings: Settings) -> None:
    """Sign-in, registration and other JSON or form routes hold bodies to
    ``request_max_bytes``; upload and submission routes keep ``upload_max_bytes``."""
    world.account("ops", Role.OPERATOR)
    big = b'{"username": "ops", "password": "' + b"x" * (200 * 1024) + b'"}'
    json_type = {"content-type": "application/json"}
    with api(settings, world) as client:
        for path in ("/api/v1/login", "/api/v1/registrations", "/api/v1/reports"):
            refused = client.post(path, content=big, headers=json_type)
            assert refused.status_code == 413, path
            assert refused.json()["title"].startswith("the request body is larger than 65536")
        form = client.post(
            "/login",
            content=b"username=" + b"x" * (200 * 1024),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 413
        accepted = client.post(
            "/api/v1/submissions",
            content=b'{"type": "market.penalty", "rows": ["' + b"x" * (200 * 1024) + b'"]}',
            headers={**json_type, "Authorization": "Bearer samr-key-0123456789abcdef"},
        )
        assert accepted.status_code != 413, "a submission batch may be larger"
