"""Looking a subject up by a code in the body, so a person's ID number stays out of URLs.

``POST /api/v1/subjects/lookup`` and ``POST /api/v1/search`` answer exactly as their GET
forms do, and the access log of a real server shows neither the number nor its birth
date. Both stores.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bonafides.records import SubjectRef
from bonafides.settings import Settings
from tests import factories
from tests.api.conftest import SECRET, Store
from tests.web.server import running_portal

TODAY = factories.office_today()


def _published(store: Store) -> tuple[SubjectRef, SubjectRef]:
    person = factories.person(name="钱大伟")
    firm = factories.org(name="宁波海港物流有限公司")
    store(
        factories.penalty(person, decision_date=TODAY - dt.timedelta(days=3)),
        factories.penalty(firm, decision_date=TODAY - dt.timedelta(days=3)),
    )
    return person, firm


def test_lookup_in_the_body_answers_as_the_path_does(client: TestClient, store: Store) -> None:
    person, firm = _published(store)
    for who in (person, firm):
        posted = client.post("/api/v1/subjects/lookup", json={"code": who.code})
        assert posted.status_code == 200, posted.text
        assert posted.json() == client.get(f"/api/v1/subjects/{who.code}").json()
    body = client.post("/api/v1/subjects/lookup", json={"code": person.code}).json()
    assert body["name"] == "钱大伟"
    assert person.code not in json.dumps(body)
    by_ref = client.post("/api/v1/subjects/lookup", json={"code": body["ref"]})
    assert by_ref.json() == body
    records = client.get(f"/api/v1/subjects/{body['ref']}/records").json()
    assert records["total"] == 1


def test_lookup_refuses_what_the_path_refuses(client: TestClient, store: Store) -> None:
    person, _ = _published(store)
    wrong = person.code[:-1] + ("1" if person.code.endswith("0") else "0")
    bad = client.post("/api/v1/subjects/lookup", json={"code": wrong})
    assert bad.status_code == 422
    assert bad.json() == client.get(f"/api/v1/subjects/{wrong}").json()
    unknown = client.post("/api/v1/subjects/lookup", json={"code": factories.person().code})
    assert unknown.status_code == 404
    assert unknown.json()["title"] == "no such subject"
    for body in ({}, {"code": "x"}, {"code": "9" * 500}, {"code": 12}, {"code": "\udfff" * 18}):
        refused = client.post(
            "/api/v1/subjects/lookup",
            content=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        assert refused.status_code == 422, body
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_search_in_the_body_answers_as_the_query_string_does(
    client: TestClient, store: Store
) -> None:
    person, firm = _published(store)
    for q in (person.code, "海港物流", firm.code):
        posted = client.post("/api/v1/search", json={"q": q, "limit": 5})
        assert posted.status_code == 200, posted.text
        assert posted.json() == client.get("/api/v1/search", params={"q": q, "limit": 5}).json()
    hits = client.post("/api/v1/search", json={"q": person.code}).json()["hits"]
    assert [h["name"] for h in hits] == ["钱大伟"]
    assert client.post("/api/v1/search", json={"q": ""}).status_code == 422


def test_openapi_shows_the_body_forms(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/subjects/lookup"]
    assert "post" in paths["/api/v1/search"]
    described = paths["/api/v1/subjects/{code}"]["get"]["description"]
    assert "/subjects/lookup" in described


@pytest.mark.timeout(90)
def test_the_access_log_of_a_body_lookup_has_no_number(
    client: TestClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    person, _ = _published(store)
    number = person.code
    log = tmp_path / "uvicorn.log"
    env = {"BONAFIDES_DB": settings.db, "BONAFIDES_SECRET_KEY": SECRET}
    with running_portal(env, log=log) as url:
        for path, body in (
            ("/api/v1/subjects/lookup", {"code": number}),
            ("/api/v1/search", {"q": number}),
        ):
            asked = urllib.request.Request(
                url + path,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(asked, timeout=10) as answer:
                assert answer.status == 200
                assert "钱大伟" in answer.read().decode()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert any('"POST /api/v1/subjects/lookup HTTP/1.1" 200' in line for line in lines), lines
    assert any('"POST /api/v1/search HTTP/1.1" 200' in line for line in lines), lines
    assert [line for line in lines if number in line or number[6:14] in line] == []
