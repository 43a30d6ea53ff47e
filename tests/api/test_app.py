"""The API on both stores: public files, search, catalogue, statistics, problem+json errors."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.app.public import PublicSubject, public_subject
from bonafides.catalogue import catalogue_document, load_catalogue
from bonafides.context import Context
from bonafides.records import RecordStatus
from bonafides.rules.loader import load_rules
from bonafides.settings import InsecureSettingsError, Settings
from tests import factories
from tests.api.conftest import Store

TODAY = factories.office_today()


def test_health(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_subject_shows_only_what_is_public_today(client: TestClient, store: Store) -> None:
    who = factories.org()
    current = factories.penalty(who, decision_date=TODAY - dt.timedelta(days=30))
    expired = factories.penalty(who, decision_date=TODAY - dt.timedelta(days=800))
    revoked = factories.penalty(
        who, decision_date=TODAY - dt.timedelta(days=10), status=RecordStatus.REVOKED
    )
    store(current, expired, revoked)
    response = client.get(f"/api/v1/subjects/{who.code}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == who.name
    assert body["ref"] == who.code
    assert [r["decision_no"] for r in body["records"]] == [current.decision_no]
    record = body["records"][0]
    assert record["source_zh"] == "国家市场监督管理总局"
    assert record["field_en"] == "Market regulation"
    assert record["under_objection"] is False


def test_restricted_content_fields_are_left_out(client: TestClient, store: Store) -> None:
    who = factories.org()
    base = factories.penalty(who, decision_date=TODAY - dt.timedelta(days=5))
    item = dataclasses.replace(
        base,
        content={
            **base.content,
            "legal_representative": "李四",
            "legal_representative_id_number": "110105********1234",
            "not_in_schema": "x",
        },
    )
    store(item)
    content = client.get(f"/api/v1/subjects/{who.code}").json()["records"][0]["content"]
    assert content["legal_representative"] == "李四"
    assert "legal_representative_id_number" not in content
    assert "not_in_schema" not in content


def test_the_subject_json_is_what_the_model_makes(
    client: TestClient, store: Store, settings: Settings
) -> None:
    """The API serialises the profile from plain data; it must be byte for byte what
    PublicSubject itself makes of the same file, read the other way."""
    firm = factories.org(name="序列化测试有限公司")
    adult = factories.person(name="钱大伟")
    objected = factories.penalty(
        firm, decision_date=TODAY - dt.timedelta(days=4), status=RecordStatus.UNDER_OBJECTION
    )
    store(
        factories.penalty(firm, decision_date=TODAY - dt.timedelta(days=9), fine="12.75"),
        dataclasses.replace(objected, severity=None, legal_basis=None),
        factories.penalty(adult, decision_date=TODAY - dt.timedelta(days=2)),
    )
    ctx = Context(settings)
    for who in (firm, adult):
        body = client.get(f"/api/v1/subjects/{who.code}").content
        with ctx.sessions() as session:
            model = public_subject(session, ctx, who.code, today=ctx.today())
        assert model is not None
        assert body == model.model_dump_json().encode()
        assert PublicSubject.model_validate_json(body) == model
    ctx.close()


def test_objection_is_marked(client: TestClient, store: Store) -> None:
    who = factories.org()
    store(
        factories.penalty(
            who, decision_date=TODAY - dt.timedelta(days=5), status=RecordStatus.UNDER_OBJECTION
        )
    )
    record = client.get(f"/api/v1/subjects/{who.code}").json()["records"][0]
    assert record["status"] == "under_objection"
    assert record["under_objection"] is True


def test_minor_is_indistinguishable_from_unknown(client: TestClient, store: Store) -> None:
    child = factories.person(birth=TODAY - dt.timedelta(days=365 * 15), name="赵小红")
    store(factories.penalty(child, decision_date=TODAY))
    response = client.get(f"/api/v1/subjects/{child.code}")
    assert response.status_code == 404
    assert "赵小红" not in response.text
    assert child.code not in response.text


def test_person_with_public_records_is_shown_masked(client: TestClient, store: Store) -> None:
    adult = factories.person(name="钱大伟")
    hidden = factories.person(name="孙二娘")
    store(
        factories.penalty(adult, decision_date=TODAY - dt.timedelta(days=3)),
        factories.penalty(hidden, decision_date=TODAY - dt.timedelta(days=900)),
    )
    body = client.get(f"/api/v1/subjects/{adult.code}").json()
    assert body["name"] == "钱大伟"
    assert body["code"] != adult.code
    assert body["code"].startswith(adult.code[:6])
    assert adult.code not in str(body)
    by_ref = client.get(f"/api/v1/subjects/{body['ref']}")
    assert by_ref.json()["name"] == "钱大伟"
    assert client.get(f"/api/v1/subjects/{hidden.code}").status_code == 404


def test_records_are_paged_and_filtered(client: TestClient, store: Store) -> None:
    who = factories.org()
    store(*[factories.penalty(who, decision_date=TODAY - dt.timedelta(days=d)) for d in range(5)])
    page = client.get(f"/api/v1/subjects/{who.code}/records", params={"limit": 2, "offset": 1})
    body = page.json()
    assert body["total"] == 5
    assert len(body["records"]) == 2
    dates = [r["decision_date"] for r in body["records"]]
    assert dates == sorted(dates, reverse=True)
    empty = client.get(f"/api/v1/subjects/{who.code}/records", params={"field": "tax"})
    assert empty.json()["total"] == 0


def test_search_by_name_and_code(client: TestClient, store: Store) -> None:
    who = factories.org(name="苏州园林建设集团有限公司")
    store(factories.penalty(who, decision_date=TODAY - dt.timedelta(days=1)))
    hits = client.get("/api/v1/search", params={"q": "苏州园林建没集团"}).json()["hits"]
    assert [h["name"] for h in hits] == [who.name]
    by_code = client.get("/api/v1/search", params={"q": who.code}).json()
    assert by_code["mode"] == "code"
    assert by_code["hits"][0]["ref"] == who.code
    assert client.get("/api/v1/search", params={"q": ""}).status_code == 422


def test_catalogue_document(client: TestClient) -> None:
    body = client.get("/api/v1/catalogue").json()
    catalogue = load_catalogue()
    assert body == catalogue_document(catalogue, load_rules(catalogue).lists_by_type)


def test_statistics(client: TestClient, store: Store) -> None:
    first = TODAY.replace(day=1)
    who = factories.org()
    store(
        factories.penalty(who, decision_date=first),
        factories.penalty(who, decision_date=first),
    )
    body = client.get("/api/v1/statistics", params={"months": 3}).json()
    assert len(body["months"]) == 3
    assert body["months"][-1] == first.strftime("%Y-%m")
    assert {"field": "market", "month": first.strftime("%Y-%m"), "records": 2} in body[
        "by_field_month"
    ]
    assert body["headline"]["subjects"] == 1
    assert body["headline"]["public_records"] == 2
    assert [d["source"] for d in body["publication_delay"]] == ["samr"]


def test_errors_are_problem_json(client: TestClient) -> None:
    bad = client.get("/api/v1/subjects/91110000600037341M")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "check" in bad.json()["title"]
    unknown = client.get("/api/v1/subjects/91110000600037341L")
    assert unknown.status_code == 404
    assert unknown.json()["title"] == "no such subject"
    assert client.get("/api/v1/nowhere").headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("get", "/api/v1/subjects/" + "9" * 500, {}),
        ("get", "/api/v1/subjects/%00%00", {}),
        ("get", "/api/v1/subjects/'%20OR%201=1--", {}),
        ("get", "/api/v1/search", {"params": {"q": "x" * 10_000}}),
        ("get", "/api/v1/search", {"params": {"q": "a", "limit": "-1"}}),
        ("get", "/api/v1/subjects/91110000600037341L/records", {"params": {"offset": "1e309"}}),
        ("get", "/api/v1/statistics", {"params": {"months": "9" * 40}}),
        ("post", "/api/v1/submissions", {"content": b"{not json"}),
        (
            "post",
            "/api/v1/submissions",
            {"content": b"\xff\xfe\x00", "headers": {"content-type": "application/json"}},
        ),
        ("post", "/api/v1/submissions", {"json": {"type": "market.penalty", "rows": [[1]]}}),
        (
            "post",
            "/api/v1/submissions/file",
            {"content": b"--x\r\n", "headers": {"content-type": "multipart/form-data; boundary=x"}},
        ),
        ("delete", "/api/v1/catalogue", {}),
    ],
)
def test_hostile_input_gets_a_4xx_problem(
    client: TestClient, method: str, url: str, kwargs: dict[str, object]
) -> None:
    response = getattr(client, method)(url, **kwargs)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"]


def test_unexpected_errors_are_logged_and_answered_as_problems(settings: Settings) -> None:
    app: FastAPI = create_app(settings)

    def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/api/v1/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "internal error"
    assert "secret" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


def test_security_headers(client: TestClient) -> None:
    for url in ("/api/v1/health", "/", "/static/style.css", "/api/v1/nowhere"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_openapi_documents_problems(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["components"]["schemas"]["Problem"]["required"] == ["title", "status"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], path
    assert not any(p.startswith(("/search", "/console")) for p in document["paths"])


def test_refuses_default_secret_outside_demo() -> None:
    with pytest.raises(InsecureSettingsError):
        create_app(Settings(db="sqlite://", demo=False))
