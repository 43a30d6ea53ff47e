"""ETag, Cache-Control and 304 on the public lists and the catalogue; no-store when private."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bonafides.http.middleware import is_cacheable

CACHEABLE = (
    "/api/v1/catalogue",
    "/catalogue",
    "/api/v1/lists",
    "/lists",
    "/api/v1/lists/courts.defaulters",
    "/api/v1/lists/courts.defaulters/entries",
    "/api/v1/lists/courts.defaulters/entries.csv",
)


def test_the_paths_in_the_list_exist(client: TestClient) -> None:
    for url in CACHEABLE:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("url", CACHEABLE)
def test_public_answers_carry_an_etag_and_a_short_public_life(url: str, client: TestClient) -> None:
    first = client.get(url)
    assert first.headers["cache-control"] == "public, max-age=300"
    etag = first.headers["etag"]
    assert etag.startswith('"')
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "content-security-policy" in again.headers


def test_a_changed_body_gets_another_etag(client: TestClient) -> None:
    catalogue = client.get("/api/v1/catalogue").headers["etag"]
    stale = client.get("/api/v1/lists", headers={"If-None-Match": catalogue})
    assert stale.status_code == 200
    assert stale.headers["etag"] != catalogue


def test_gzipped_and_plain_bodies_have_different_etags(client: TestClient) -> None:
    gz = client.get("/api/v1/catalogue", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/api/v1/catalogue", headers={"Accept-Encoding": "identity"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gz.headers["etag"] != plain.headers["etag"]


def test_pages_vary_by_the_language_cookie(client: TestClient) -> None:
    zh = client.get("/lists")
    client.cookies.set("bonafides_lang", "en")
    en = client.get("/lists", headers={"If-None-Match": zh.headers["etag"]})
    assert en.status_code == 200
    assert "Cookie" in en.headers["vary"]
    assert en.headers["etag"] != zh.headers["etag"]


def test_never_on_private_answers(client: TestClient) -> None:
    public = client.get("/api/v1/catalogue")
    private = client.get(
        "/api/v1/catalogue",
        headers={"Authorization": "Bearer x", "If-None-Match": public.headers["etag"]},
    )
    assert private.status_code == 200
    assert private.headers["cache-control"] == "no-store"
    assert "etag" not in private.headers


def test_other_routes_are_not_cached(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert "etag" not in response.headers
    assert not is_cacheable({"type": "http", "method": "GET", "path": "/listsx", "headers": []})
    assert not is_cacheable({"type": "http", "method": "POST", "path": "/lists", "headers": []})


def test_a_long_stream_is_passed_on_without_an_etag() -> None:
    from collections.abc import Iterator

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    from bonafides.http.middleware import ETAG_MAX_BYTES, PublicCaching

    chunk = b"x" * 65536

    def rows() -> Iterator[bytes]:
        for _ in range(ETAG_MAX_BYTES // len(chunk) + 2):
            yield chunk

    async def export(_: Request) -> StreamingResponse:
        return StreamingResponse(rows(), media_type="text/csv")

    app = PublicCaching(Starlette(routes=[Route("/lists/big.csv", export)]))
    response = TestClient(app).get("/lists/big.csv")
    assert response.status_code == 200
    assert len(response.content) == (ETAG_MAX_BYTES // len(chunk) + 2) * len(chunk)
    assert response.headers["cache-control"] == "public, max-age=300"
    assert "etag" not in response.headers
