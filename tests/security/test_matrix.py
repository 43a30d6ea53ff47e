"""Role x route x disclosure class over the API: each role sees and does exactly what it
should, and nothing more. Both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bonafides.records import SubjectRef
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import RecordType
from tests import factories
from tests.security.world import World, api, record_of

CLASSES = ("public", "shared", "restricted", "subject_only")
ROLES = ("anonymous", "firm", "other", "clerk", "cnipa", "banker", "ops")
PURPOSE = {"purpose": "licence renewal review 2026"}


class Matrix:
    def __init__(self, world: World, client: TestClient) -> None:
        self.world = world
        self.client = client
        self.firm = factories.org()
        self.other = factories.org()
        world.account("firm", Role.SUBJECT, subject=self.firm)
        world.account("other", Role.SUBJECT, subject=self.other)
        world.account("clerk", Role.OFFICER, department="samr")
        world.account("cnipa", Role.OFFICER, department="cnipa")
        world.account("banker", Role.INQUIRER, department="pboc")
        world.account("ops", Role.OPERATOR)
        self.tokens = {name: world.key(name) for name in ROLES if name != "anonymous"}
        with world.ctx.sessions.begin() as session:
            session.add(
                RecordType(
                    code="test.subject_only",
                    field="market",
                    title_zh="仅本人可见",
                    title_en="Subject only",
                    polarity="negative",
                    disclosure="subject_only",
                    catalogue_version="test",
                    definition={},
                )
            )
        day = world.today - dt.timedelta(days=20)
        self.ids = dict(
            zip(
                CLASSES,
                world.store(
                    factories.penalty(self.firm, decision_date=day),
                    record_of("ip.malicious_trademark", self.firm, source="cnipa", decided=day),
                    record_of("procuratorate.bribery_record", self.firm, source="spp", decided=day),
                    record_of("test.subject_only", self.firm, source="samr", decided=day),
                ),
                strict=True,
            )
        )
        world.penalty(self.other)

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, role: str, url: str, **params: Any) -> Any:
        return self.client.get(url, headers=self.headers(role), params=params)

    def post(self, role: str, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers=self.headers(role), **kw)

    def classes(self, body: dict[str, Any]) -> set[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[r["id"]] for r in body["records"] if r["id"] in by_id}


@pytest.fixture
def matrix(world: World, settings: Settings) -> Iterator[Matrix]:
    with api(settings, world) as client:
        yield Matrix(world, client)


FILE_READS = {
    "anonymous": 401,
    "firm": 403,
    "other": 403,
    "clerk": {"public", "shared", "subject_only"},
    "cnipa": {"public", "shared"},
    "banker": {"public", "shared"},
    "ops": set(CLASSES),
}


def test_file_of_a_subject_per_role(matrix: Matrix) -> None:
    url = f"/api/v1/files/{matrix.firm.code}"
    for role, expected in FILE_READS.items():
        response = matrix.get(role, url, **PURPOSE)
        if isinstance(expected, int):
            assert response.status_code == expected, (role, response.text)
            continue
        assert response.status_code == 200, (role, response.text)
        assert matrix.classes(response.json()) == expected, role
        assert response.json()["code"] == matrix.firm.code
    no_purpose = matrix.get("clerk", url)
    assert no_purpose.status_code == 422


def test_own_file_per_role(matrix: Matrix) -> None:
    expected = {
        "anonymous": 401,
        "firm": set(CLASSES),
        "other": set(),
        "clerk": 403,
        "cnipa": 403,
        "banker": 403,
        "ops": 403,
    }
    for role, want in expected.items():
        response = matrix.get(role, "/api/v1/me/file")
        if isinstance(want, int):
            assert response.status_code == want, (role, response.text)
            continue
        assert response.status_code == 200, (role, response.text)
        assert matrix.classes(response.json()) == want, role
        assert response.json()["audience"] == "subject"


def test_public_routes_show_public_records_to_everyone(matrix: Matrix) -> None:
    for role in ROLES:
        body = matrix.get(role, f"/api/v1/subjects/{matrix.firm.code}").json()
        assert matrix.classes(body) == {"public"}, role


def test_special_inquiry_opens_restricted_records_for_its_subjects_and_days(
    matrix: Matrix,
) -> None:
    today = matrix.world.today
    application = {
        "purpose": "anti-bribery check before a state loan",
        "legal_basis": "《商业银行法》第三十五条",
        "codes": [matrix.firm.code],
        "valid_from": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=7)).isoformat(),
    }
    for role, status in {"anonymous": 401, "firm": 403, "ops": 403}.items():
        assert matrix.post(role, "/api/v1/inquiries", json=application).status_code == status
    too_long = {**application, "valid_until": (today + dt.timedelta(days=400)).isoformat()}
    assert matrix.post("banker", "/api/v1/inquiries", json=too_long).status_code == 422
    created = matrix.post("banker", "/api/v1/inquiries", json=application)
    assert created.status_code == 201, created.text
    inquiry = created.json()["id"]
    url = f"/api/v1/files/{matrix.firm.code}"
    pending = matrix.get("banker", url, inquiry=inquiry, **PURPOSE)
    assert pending.status_code == 403, "not approved yet"
    decision = {"approve": True, "note": "basis checked"}
    for role in ("banker", "clerk", "firm"):
        assert (
            matrix.post(role, f"/api/v1/inquiries/{inquiry}/decision", json=decision).status_code
            == 403
        )
    approved = matrix.post("ops", f"/api/v1/inquiries/{inquiry}/decision", json=decision)
    assert approved.status_code == 200, approved.text
    read = matrix.get("banker", url, inquiry=inquiry, **PURPOSE)
    assert read.status_code == 200, read.text
    assert matrix.classes(read.json()) == {"public", "shared", "restricted"}
    assert read.json()["special_inquiry"] == inquiry
    assert matrix.get("cnipa", url, inquiry=inquiry, **PURPOSE).status_code == 403, "not theirs"
    other = matrix.get("banker", f"/api/v1/files/{matrix.other.code}", inquiry=inquiry, **PURPOSE)
    assert other.status_code == 403, "not a named subject"
    matrix.world.clock.advance(days=8)
    assert matrix.get("banker", url, inquiry=inquiry, **PURPOSE).status_code == 403, "expired"
    log = matrix.get("firm", "/api/v1/me/access-log").json()["events"]
    reads = [e for e in log if e["tag"] == "access:subject:read" and "banker" in e["actor"]]
    assert reads[0]["purpose"] == application["purpose"]
    assert reads[0]["department"] == "pboc"


def test_every_non_public_read_is_in_the_subjects_access_log(matrix: Matrix) -> None:
    for role in ("clerk", "cnipa", "banker", "ops"):
        assert matrix.get(role, f"/api/v1/files/{matrix.firm.code}", **PURPOSE).status_code == 200
    matrix.get("anonymous", f"/api/v1/subjects/{matrix.firm.code}")
    log = matrix.get("firm", "/api/v1/me/access-log")
    assert log.status_code == 200, log.text
    reads = [e for e in log.json()["events"] if e["tag"] == "access:subject:read"]
    assert {e["actor"].rsplit(":", 1)[-1] for e in reads} == {"clerk", "cnipa", "banker", "ops"}
    assert {e["department"] for e in reads} == {"samr", "cnipa", "pboc", None}
    assert {e["purpose"] for e in reads} == {PURPOSE["purpose"]}
    others = matrix.get("other", "/api/v1/me/access-log").json()["events"]
    assert not [e for e in others if e["tag"] == "access:subject:read" and "ops" in e["actor"]]
    for role in ("anonymous", "clerk", "ops"):
        assert matrix.get(role, "/api/v1/me/access-log").status_code in (401, 403)


ADMIN_ROUTES = [
    ("get", "/api/v1/accounts", None),
    ("get", "/api/v1/api-keys", None),
    (
        "post",
        "/api/v1/accounts",
        {"username": "newclerk", "role": "officer", "display_name": "N", "department": "mee"},
    ),
]


def test_admin_routes_are_for_operators(matrix: Matrix) -> None:
    for method, url, body in ADMIN_ROUTES:
        for role in ROLES:
            kw = {"json": body} if body else {}
            response = getattr(matrix.client, method)(url, headers=matrix.headers(role), **kw)
            want = {"anonymous": 401, "ops": 201 if body else 200}.get(role, 403)
            assert response.status_code == want, (method, url, role, response.text)


def test_workflow_routes_per_role(matrix: Matrix) -> None:
    record = matrix.ids["public"]
    grounds = {"record_id": str(record), "grounds": "The fine was paid before publication."}
    for role in ("anonymous", "other", "clerk", "banker", "ops"):
        response = matrix.post(role, "/api/v1/objections", data=grounds)
        assert response.status_code == {"anonymous": 401, "other": 404}.get(role, 403), role
    opened = matrix.post("firm", "/api/v1/objections", data=grounds)
    assert opened.status_code == 201, opened.text
    number = opened.json()["id"]
    public = matrix.get("anonymous", f"/api/v1/subjects/{matrix.firm.code}").json()
    assert [r["under_objection"] for r in public["records"]] == [True]
    decision = {"outcome": "upheld", "reasons": "The payment came after the decision."}
    url = f"/api/v1/objections/{number}/decision"
    for role in ("anonymous", "firm", "banker", "ops"):
        assert matrix.post(role, url, json=decision).status_code == (
            401 if role == "anonymous" else 403
        ), role
    assert matrix.post("cnipa", url, json=decision).status_code == 404
    assert matrix.post("clerk", url, json=decision).status_code == 200
    for role, seen in {
        "firm": [number],
        "other": [],
        "clerk": [number],
        "cnipa": [],
        "ops": [number],
    }.items():
        listed = matrix.get(role, "/api/v1/objections").json()
        assert [o["id"] for o in listed] == seen, role
    assert matrix.get("anonymous", "/api/v1/objections").status_code == 401
    complaint = {
        "kind": "report",
        "text": "Sells expired milk every evening.",
        "about": "a shop",
        "department": "samr",
    }
    for role in ROLES:
        assert matrix.post(role, "/api/v1/complaints", json=complaint).status_code == 201, role


def test_scoped_key_does_only_its_scope(matrix: Matrix) -> None:
    narrow = matrix.world.key("clerk", "records:submit")
    headers = {"Authorization": f"Bearer {narrow}"}
    response = matrix.client.get(
        f"/api/v1/files/{matrix.firm.code}", headers=headers, params=PURPOSE
    )
    assert response.status_code == 403
    assert matrix.client.get("/api/v1/me", headers=headers).json()["scopes"] == ["records:submit"]


def test_a_revoked_key_stops_at_once(matrix: Matrix) -> None:
    key_id = matrix.tokens["clerk"].split("_")[1]
    assert matrix.get("clerk", "/api/v1/me").status_code == 200
    assert (
        matrix.client.delete(
            f"/api/v1/api-keys/{key_id}", headers=matrix.headers("clerk")
        ).status_code
        == 403
    )
    assert (
        matrix.client.delete(
            f"/api/v1/api-keys/{key_id}", headers=matrix.headers("ops")
        ).status_code
        == 204
    )
    assert matrix.get("clerk", "/api/v1/me").status_code == 401


def test_minor_is_never_public_but_the_subject_sees_itself(matrix: Matrix) -> None:
    child = factories.person(birth=matrix.world.today - dt.timedelta(days=365 * 15), name="赵小红")
    minor: SubjectRef = child
    matrix.world.store(
        factories.penalty(minor, decision_date=matrix.world.today - dt.timedelta(days=3))
    )
    assert matrix.get("anonymous", f"/api/v1/subjects/{child.code}").status_code == 404
    assert matrix.get("anonymous", "/api/v1/search", q=child.name).json()["hits"] == []
    body = matrix.get("ops", f"/api/v1/files/{child.code}", **PURPOSE).json()
    assert body["minor"] is True
    assert "*" in body["code"], "a person's ID number stays masked"
    assert child.code not in str(body)
    from bonafides.security.identifiers import IdentifierVault
    from tests.security.world import SECRET

    ref = IdentifierVault(SECRET).lookup_key(child.code)
    by_ref = matrix.get("ops", f"/api/v1/files/{ref}", **PURPOSE)
    assert by_ref.status_code == 200, by_ref.text
    assert by_ref.json()["name"] == "赵小红"


def test_officers_submit_only_their_departments_record_types(matrix: Matrix) -> None:
    from bonafides.catalogue import load_catalogue

    rtype = load_catalogue().type("market.penalty")
    batch = {"type": "market.penalty", "rows": [factories.content_row(rtype, factories.org())]}
    submitted = matrix.post("clerk", "/api/v1/submissions", json=batch)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["source"] == "samr"
    assert submitted.json()["summary"]["accepted"] == 1
    assert matrix.post("cnipa", "/api/v1/submissions", json=batch).status_code == 422
    claimed = matrix.client.post(
        "/api/v1/submissions",
        json=batch,
        headers={**matrix.headers("clerk"), "X-Department": "mee"},
    )
    assert claimed.status_code == 401, "an officer submits as its own department only"
    for role in ("banker", "ops", "firm"):
        assert matrix.post(role, "/api/v1/submissions", json=batch).status_code == 401, role


def test_registration_queue_is_for_operators(matrix: Matrix) -> None:
    for role in ROLES:
        want = {"anonymous": 401, "ops": 200}.get(role, 403)
        assert matrix.get(role, "/api/v1/registrations").status_code == want, role
        refusal = matrix.post(
            role, "/api/v1/registrations/nobody/refusal", json={"reason": "documents forged"}
        )
        assert refusal.status_code == {"anonymous": 401, "ops": 404}.get(role, 403), role


def test_full_report_per_role(matrix: Matrix) -> None:
    body = {"code": matrix.firm.code, "view": "full", **PURPOSE}
    audiences = {
        "anonymous": 401,
        "firm": "subject",
        "other": 403,
        "clerk": "authority",
        "cnipa": "authority",
        "banker": "authority",
        "ops": "operator",
    }
    for role, want in audiences.items():
        issued = matrix.post(role, "/api/v1/reports", json=body)
        if isinstance(want, int):
            assert issued.status_code == want, (role, issued.text)
            continue
        assert issued.status_code == 201, (role, issued.text)
        report = matrix.get(role, f"/api/v1/reports/{issued.json()['id']}")
        assert report.json()["document"]["audience"] == want, role


@pytest.mark.parametrize(
    ("purpose", "status"), [("贷款审批", 200), ("审批", 200), ("。。。。。", 422)]
)
def test_a_purpose_in_chinese_is_stated_in_few_characters(
    matrix: Matrix, purpose: str, status: int
) -> None:
    response = matrix.get("clerk", f"/api/v1/files/{matrix.firm.code}", purpose=purpose)
    assert response.status_code == status, response.text
