"""Checks over HTTP: who may screen for what, certificates, batch files, verification."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from bonafides.records import SubjectRef
from bonafides.security.roles import Role
from bonafides.settings import Settings
from tests import factories
from tests.security.world import (
    World,
    api,
    cheap_passwords,
    ctx,
    record_of,
    settings,
    world,
)

__all__ = ["cheap_passwords", "ctx", "settings", "world"]


def _bearer(world: World, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.key(username)}"}


def _listed(world: World) -> SubjectRef:
    firm = factories.org(name="失信供应商有限公司")
    world.store(
        record_of(
            "courts.defaulter", firm, source="spc", decided=world.today - dt.timedelta(days=10)
        )
    )
    return firm


def _check(
    client: TestClient, headers: dict[str, str], code: str, action: str
) -> dict[str, object]:
    response = client.post(
        "/api/v1/checks",
        headers=headers,
        json={"code": code, "action": action, "purpose": "tender 2026-17"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_an_inquirer_checks_for_its_own_actions_only(world: World, settings: Settings) -> None:
    firm = _listed(world)
    world.account("buyer", Role.INQUIRER, department="mof")
    world.account("banker", Role.INQUIRER, department="pboc")
    world.account("clerk", Role.OFFICER, department="samr")
    with api(settings, world) as client:
        buyer = _bearer(world, "buyer")
        result = _check(client, buyer, firm.code, "procurement.bid")
        answer = result["answer"]
        assert isinstance(answer, dict)
        assert answer["status"] == "measures_apply"
        (measure,) = answer["measures"]
        assert measure["measure"] == "defaulters.procurement"
        assert measure["legal_basis"]
        stranger = factories.org()
        clear = _check(client, buyer, stranger.code, "procurement.bid")
        assert clear["answer"] == {
            "action": "procurement.bid",
            "as_of": world.today.isoformat(),
            "code": stranger.code,
            "status": "unknown",
        }
        body = {"code": firm.code, "action": "procurement.bid", "purpose": "loan"}
        for who, status in (("banker", 403), ("clerk", 403)):
            refused = client.post("/api/v1/checks", headers=_bearer(world, who), json=body)
            assert refused.status_code == status, who
            assert refused.headers["content-type"] == "application/problem+json"
        assert client.post("/api/v1/checks", json=body).status_code == 401
        unknown = client.post("/api/v1/checks", headers=buyer, json={**body, "action": "no.such"})
        assert unknown.status_code == 422
        bad = client.post("/api/v1/checks", headers=buyer, json={**body, "code": "91110000X"})
        assert bad.status_code == 422
        assert "invalid code" in bad.json()["title"]


def test_a_certificate_verifies_for_its_department(world: World, settings: Settings) -> None:
    firm = _listed(world)
    world.account("buyer", Role.INQUIRER, department="mof")
    world.account("other", Role.INQUIRER, department="pboc")
    world.account("boss", Role.OPERATOR)
    with api(settings, world) as client:
        cert = _check(client, _bearer(world, "buyer"), firm.code, "procurement.bid")
        path = f"/api/v1/checks/{cert['certificate']}"
        verified = client.get(path, headers=_bearer(world, "buyer"))
        assert verified.status_code == 200, verified.text
        body = verified.json()
        assert body["intact"] is True
        assert body["same_now"] is True
        assert body["answer"] == cert["answer"]
        assert body["department"] == "mof"
        assert client.get(path, headers=_bearer(world, "boss")).status_code == 200
        assert client.get(path, headers=_bearer(world, "other")).status_code == 404
        missing = client.get("/api/v1/checks/" + "A" * 24, headers=_bearer(world, "boss"))
        assert missing.status_code == 404


def test_batch_screening_of_an_uploaded_file(world: World, settings: Settings) -> None:
    firm = _listed(world)
    world.account("boss", Role.OPERATOR)
    clean = factories.org()
    text = f"code\n{firm.code}\n{clean.code}\nnot-a-code\n"
    with api(settings, world) as client:
        response = client.post(
            "/api/v1/checks/batch",
            headers=_bearer(world, "boss"),
            data={"action": "procurement.bid", "purpose": "tender 2026-18"},
            files={"file": ("suppliers.csv", text.encode(), "text/csv")},
        )
        assert response.status_code == 201, response.text
        batch = response.json()
        assert batch["counts"]["measures_apply"] == 1
        assert batch["counts"]["invalid"] == 1
        statuses = {line["line"]: line["status"] for line in batch["lines"]}
        assert statuses == {2: "measures_apply", 3: "unknown", 4: "invalid"}
        line = next(x for x in batch["lines"] if x["line"] == 2)
        assert line["certificate"] == f"{batch['certificate']}.2"
        verified = client.get(
            f"/api/v1/checks/{batch['certificate']}.2", headers=_bearer(world, "boss")
        )
        assert verified.status_code == 200
        assert verified.json()["same_now"] is True
        empty = client.post(
            "/api/v1/checks/batch",
            headers=_bearer(world, "boss"),
            data={"action": "procurement.bid", "purpose": "x"},
            files={"file": ("empty.bin", b"\x00\x01\x02", "application/octet-stream")},
        )
        assert empty.status_code == 422
        assert empty.headers["content-type"] == "application/problem+json"
