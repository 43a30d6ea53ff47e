"""gzip for clients that ask, from 1 KB, never on formats compressed already."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bonafides.http.middleware import CONTENT_SECURITY_POLICY, Compression


def _raw(client: TestClient, url: str, accept: str) -> tuple[dict[str, str], bytes]:
    """Headers and the bytes on the wire, not decoded by the client."""
    with client.stream("GET", url, headers={"Accept-Encoding": accept}) as response:
        assert response.status_code == 200
        return dict(response.headers), b"".join(response.iter_raw())


def test_a_large_json_answer_is_gzipped_when_asked(client: TestClient) -> None:
    headers, body = _raw(client, "/api/v1/catalogue", "gzip")
    assert headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in headers["vary"]
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    plain = gzip.decompress(body)
    assert plain.startswith(b"{")
    assert len(plain) > len(body)


def test_not_gzipped_unless_asked(client: TestClient) -> None:
    headers, body = _raw(client, "/api/v1/catalogue", "identity")
    assert "content-encoding" not in headers
    assert body.startswith(b"{")


def test_a_small_answer_is_not_gzipped(client: TestClient) -> None:
    headers, _ = _raw(client, "/api/v1/health", "gzip")
    assert "content-encoding" not in headers


def test_a_pdf_is_never_gzipped() -> None:
    pdf = b"%PDF-1.7\n" + b"0" * 50_000

    async def report(_: Request) -> Response:
        return Response(pdf, media_type="application/pdf")

    app = Compression(Starlette(routes=[Route("/r.pdf", report)]))
    headers, body = _raw(TestClient(app), "/r.pdf", "gzip")
    assert "content-encoding" not in headers
    assert body == pdf
