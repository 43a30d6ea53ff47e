"""``/api/v1/exports`` lists the exports the CLI wrote and serves their files with the
SHA-256 of the manifest as ETag, a 304 on revalidation, and nothing outside an export."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.app.exports import make_export
from bonafides.context import Context
from bonafides.exchange.sinks import ExportFormat
from bonafides.settings import Settings
from tests.exchange.conftest import TODAY, World


def test_exports_listed_and_served_with_etag(
    settings: Settings, ctx: Context, world: World
) -> None:
    directory, manifest = make_export(ctx, ExportFormat.CSV)
    make_export(ctx, ExportFormat.PARQUET, since=TODAY)
    with TestClient(create_app(settings)) as client:
        listed = client.get("/api/v1/exports")
        assert listed.status_code == 200, listed.text
        assert listed.headers["cache-control"] == "public, max-age=300"
        assert listed.headers["etag"]
        names = [e["name"] for e in listed.json()["exports"]]
        assert sorted(names) == sorted([manifest["name"], f"delta-{TODAY}-since-{TODAY}-parquet"])
        shown = next(e for e in listed.json()["exports"] if e["name"] == manifest["name"])
        assert shown["files"]["records.csv"]["schema"][0] == ["id", "int64"]

        url = f"/api/v1/exports/{manifest['name']}/records.csv"
        got = client.get(url, headers={"accept-encoding": "identity"})
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == manifest["files"]["records.csv"]["sha256"]
        assert got.content == (directory / "records.csv").read_bytes()
        etag = got.headers["etag"]
        assert etag == f'"{manifest["files"]["records.csv"]["sha256"][:32]}"'
        assert got.headers["cache-control"] == "public, max-age=300"
        again = client.get(url, headers={"if-none-match": etag, "accept-encoding": "identity"})
        assert again.status_code == 304
        assert again.headers["etag"] == etag

        assert client.get(f"/api/v1/exports/{manifest['name']}/manifest.json").json() == manifest
        for bad in (
            f"/api/v1/exports/{manifest['name']}/secret.csv",
            "/api/v1/exports/snapshot-nothing/records.csv",
            f"/api/v1/exports/{manifest['name']}/..%2F..%2Fbonafides.db",
            "/api/v1/exports/..%2Fkeys/records.csv",
        ):
            answer = client.get(bad)
            assert answer.status_code in (404, 422), bad


def test_no_exports_is_an_empty_list(settings: Settings, ctx: Context) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/exports").json() == {"exports": []}
