"""Record submission through the API: keys, the shared ingest path, reports, limits."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator

from fastapi.testclient import TestClient

from bonafides.catalogue import load_catalogue
from tests import factories
from tests.api.conftest import MEE_KEY, SAMR_KEY

PENALTY = load_catalogue().type("market.penalty")
CODE_COLUMN = PENALTY.content_field("uscc").column_zh
RECENT = factories.office_today() - dt.timedelta(days=3)


def _rows(good: int, bad: int) -> list[dict[str, str]]:
    rows = [
        factories.content_row(PENALTY, factories.org(), decision_date=RECENT) for _ in range(good)
    ]
    for _ in range(bad):
        row = factories.content_row(PENALTY, factories.org(), decision_date=RECENT)
        row[CODE_COLUMN] = row[CODE_COLUMN][:-1] + ("0" if row[CODE_COLUMN][-1] != "0" else "1")
        rows.append(row)
    return rows


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_batch_needs_the_departments_own_key(client: TestClient) -> None:
    batch = {"type": "market.penalty", "rows": _rows(1, 0)}
    missing = client.post("/api/v1/submissions", json=batch)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert client.post("/api/v1/submissions", json=batch, headers=_auth("nope")).status_code == 401
    other = client.post(
        "/api/v1/submissions",
        json=batch,
        headers={**_auth(MEE_KEY), "X-Department": "samr"},
    )
    assert other.status_code == 401
    # The MEE's key submits as the MEE, which is no source of market penalties.
    refused = client.post("/api/v1/submissions", json=batch, headers=_auth(MEE_KEY))
    assert refused.status_code == 422
    assert "not a source" in refused.json()["title"]


def test_batch_is_ingested_and_reported_row_by_row(client: TestClient) -> None:
    rows = _rows(3, 2)
    batch = {"type": "market.penalty", "rows": rows}
    first = client.post("/api/v1/submissions", json=batch, headers=_auth(SAMR_KEY))
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["source"] == "samr"
    assert report["summary"]["accepted"] == 3
    assert report["summary"]["rejected"] == 2
    assert {r["row"] for r in report["rejections"]} == {5, 6}
    assert all(r["field"] == CODE_COLUMN or "uscc" in r["field"] for r in report["rejections"])
    again = client.post("/api/v1/submissions", json=batch, headers=_auth(SAMR_KEY)).json()
    assert again["summary"]["unchanged"] == 3
    assert again["summary"]["accepted"] == 0
    stored = rows[0]
    code = stored[CODE_COLUMN]
    assert client.get(f"/api/v1/subjects/{code}").json()["name"] == stored["行政相对人名称"]


def test_unknown_type_is_refused_whole(client: TestClient) -> None:
    response = client.post(
        "/api/v1/submissions",
        json={"type": "no.such_type", "rows": [{"a": "b"}]},
        headers=_auth(SAMR_KEY),
    )
    assert response.status_code == 422
    assert "unknown record type" in response.json()["title"]


def test_file_upload_goes_through_the_same_service(client: TestClient) -> None:
    content = _csv(_rows(4, 1))
    response = client.post(
        "/api/v1/submissions/file",
        data={"type": "market.penalty"},
        files={"file": ("../../etc/处罚 2026.csv", content, "text/csv")},
        headers=_auth(SAMR_KEY),
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["file"] == "处罚_2026.csv"
    assert report["format"] == "csv"
    assert report["summary"]["accepted"] == 4
    assert report["summary"]["rejected"] == 1
    assert report["rejections"][0]["row"] == 6


def test_binary_and_oversized_uploads_are_refused(client: TestClient) -> None:
    binary = client.post(
        "/api/v1/submissions/file",
        data={"type": "market.penalty"},
        files={"file": ("x.csv", b"\x00\x01\x02PK" * 10, "text/csv")},
        headers=_auth(SAMR_KEY),
    )
    assert binary.status_code == 422
    assert "binary" in binary.json()["title"]
    big = client.post(
        "/api/v1/submissions/file",
        data={"type": "market.penalty"},
        files={"file": ("big.csv", b"a" * (300 * 1024), "text/csv")},
        headers=_auth(SAMR_KEY),
    )
    assert big.status_code == 413
    assert big.json()["title"].startswith("the request body is larger than")


def test_body_limit_holds_without_a_declared_length(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 10_000

    response = client.post(
        "/api/v1/submissions",
        content=chunks(),
        headers={**_auth(SAMR_KEY), "content-type": "application/json"},
    )
    assert response.status_code == 413


def test_lone_surrogate_in_a_batch_is_a_row_level_rejection(client: TestClient) -> None:
    rows = _rows(2, 0)
    name = "行政相对人名称"
    body = json.dumps({"type": "market.penalty", "rows": rows}).replace(
        json.dumps(rows[1][name]), '"\\ud800\\u5317"'
    )
    response = client.post(
        "/api/v1/submissions",
        content=body.encode("ascii"),
        headers={**_auth(SAMR_KEY), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["summary"]["accepted"] == 1
    assert report["summary"]["rejected"] == 1
    (rejection,) = report["rejections"]
    assert (rejection["row"], rejection["field"]) == (3, name)
    assert "U+D800" in rejection["reason"]


def test_surrogate_in_a_batch_key_or_type_is_no_server_error(client: TestClient) -> None:
    rows = _rows(1, 0)
    body = json.dumps({"type": "market.penalty", "rows": rows})
    keyed = body.replace('"rows": [{', '"rows": [{"\\udc80x": "\\udc80", ', 1)
    response = client.post(
        "/api/v1/submissions",
        content=keyed.encode("ascii"),
        headers={**_auth(SAMR_KEY), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["rejected"] == 1
    typed = body.replace('"market.penalty"', '"market.\\ud800"')
    response = client.post(
        "/api/v1/submissions",
        content=typed.encode("ascii"),
        headers={**_auth(SAMR_KEY), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text


def test_a_departments_key_submits_only_its_own_rows(client: TestClient) -> None:
    """The key's department is the source; a row naming another department by its USCC
    (数据来源单位统一社会信用代码) is rejected by row, the others are stored."""
    catalogue = load_catalogue()
    own, other = (catalogue.department(c).uscc or "" for c in ("samr", "bj_amr"))
    rows = [
        factories.content_row(
            PENALTY, factories.org(), decision_date=RECENT, data_source_unit_uscc=code
        )
        for code in (own, other)
    ]
    response = client.post(
        "/api/v1/submissions",
        json={"type": "market.penalty", "rows": rows},
        headers=_auth(SAMR_KEY),
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["summary"]["accepted"] == 1
    (rejection,) = report["rejections"]
    assert rejection["row"] == 3
    assert rejection["field"] == "数据来源单位统一社会信用代码"
    assert "'bj_amr'" in rejection["reason"]
