"""ASGI middleware for every response: strict security headers, ``no-store`` on private
answers, a body size limit, gzip for clients that ask, and ETags with a short public
cache life on the public lists and the catalogue.

Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``: these run on every request,
the profile endpoint's included, and the wrapper costs nothing measurable.
"""

from __future__ import annotations

import hashlib

from fastapi import HTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bonafides.security.sessions import COOKIE

#: Scripts, styles and images from the portal itself only; no frames, no plugins,
#: forms post back to the portal and nowhere else.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


class BodyTooLargeError(HTTPException):
    """A request body passed its route's limit; raised while the body is being read.

    An HTTPException, because FastAPI turns any other error raised while it reads a
    body into a 400, and the client should learn the real reason.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


#: Paths that are about the signed-in account whoever asks (an anonymous /me redirects).
PRIVATE_PREFIXES = ("/me", "/api/v1/me")
_COOKIE_PREFIX = COOKIE.encode() + b"="


def is_private(scope: Scope) -> bool:
    """The one rule for ``Cache-Control: no-store``: an answer to a request that carries
    credentials (a session cookie or an Authorization header) may hold non-public data,
    a full report or a page naming the account, so no cache may keep it; and /me and
    /api/v1/me/* are private by path. Anonymous public answers stay cacheable."""
    path: str = scope.get("path", "")
    if any(path == p or path.startswith(p + "/") for p in PRIVATE_PREFIXES):
        return True
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return True
        if name == b"cookie" and _COOKIE_PREFIX in value:
            return True
    return False


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = is_private(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if private:
                    headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
                present = {name.lower() for name, _ in headers}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: Routes that take files or batches: submissions, register loads, batch screening, the
#: console upload, report verification uploads, and due-process forms with attachments.
#: Every other route (sign-in, registration, report issuing, JSON and form routes) gets
#: the small limit.
UPLOAD_PREFIXES = (
    "/api/v1/submissions",
    "/api/v1/register",
    "/api/v1/checks",
    "/api/v1/watchlists",
    "/api/v1/counterparties",
    "/api/v1/reports/verify",
    "/api/v1/objections",
    "/api/v1/repairs",
    "/api/v1/complaints",
    "/console",
    "/verify",
    "/objections",
    "/repairs",
    "/complaints",
    "/counterparties",
)


def body_limit_for(path: str, *, small: int, large: int) -> int:
    """The route class of ``path``: ``large`` for uploads and batches, else ``small``."""
    if any(path == p or path.startswith(p + "/") for p in UPLOAD_PREFIXES):
        return large
    return small


class BodyLimit:
    """Refuses a body over its route class's limit, whether it declares its length or not.

    The check is made as the body is read, so a route that never reads a body pays
    nothing, a declared length over the limit is answered 413 before a byte is parsed,
    and a chunked upload is cut off as soon as it passes the limit instead of being
    spooled to disk whole.
    """

    def __init__(self, app: ASGIApp, limit: int, small: int | None = None) -> None:
        self.app = app
        self.limit = limit
        self.small = limit if small is None else min(small, limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = 0
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
        seen = 0
        limit = body_limit_for(scope.get("path", ""), small=self.small, large=self.limit)

        async def counting_receive() -> Message:
            nonlocal seen
            if declared > limit:
                raise BodyTooLargeError(limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, counting_receive, send)


#: Below this a gzip header and trailer cost about what compression saves.
GZIP_MINIMUM_BYTES = 1024

#: Formats compressed already: gzip would spend CPU to make them larger. A PDF's streams
#: are deflated by WeasyPrint and pyHanko, and a signed one must reach the client as
#: the exact bytes its registry digest names.
GZIP_EXCLUDED_TYPES = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/pdf",
    "application/vnd.apache.parquet",  # compressed already (zstd)
)


class Compression:
    """Starlette's gzip for a request that accepts it, and nothing at all for one that
    does not: Starlette wraps even those to hold back the response start, which the
    health probe and the benchmarks' clients (no ``Accept-Encoding``) need not pay.

    Level 6, not Starlette's 9: on JSON and HTML it is within a few per cent of 9's size
    for a fraction of its CPU, which two cores serving every request need more.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(
            app,
            minimum_size=GZIP_MINIMUM_BYTES,
            compresslevel=6,
            exclude_content_types=GZIP_EXCLUDED_TYPES,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"accept-encoding" and b"gzip" in value:
                    await self.gzip(scope, receive, send)
                    return
        await self.app(scope, receive, send)


#: Public answers that change only when records, lists or the catalogue do: red and black
#: lists (pages, JSON and CSV) and the catalogue (document and page).
CACHEABLE_PREFIXES = (
    "/lists",
    "/api/v1/lists",
    "/catalogue",
    "/api/v1/catalogue",
    "/api/v1/exports",
)
CACHE_CONTROL = b"public, max-age=300"
#: A body is held back this long to digest it; a longer one (a big CSV export) is sent
#: as it comes, with Cache-Control but no ETag, rather than held whole in memory.
ETAG_MAX_BYTES = 4 * 1024 * 1024
#: Kept on a 304 (RFC 9110 §15.4.5); the body's own headers go.
_NOT_MODIFIED_HEADERS = {b"cache-control", b"etag", b"vary", b"content-location", b"expires"}


def is_cacheable(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return (
        scope.get("method") == "GET"
        and any(path == p or path.startswith(p + "/") for p in CACHEABLE_PREFIXES)
        and not is_private(scope)
    )


def _accepts_gzip(scope: Scope) -> bool:
    return any(n == b"accept-encoding" and b"gzip" in v for n, v in scope.get("headers", []))


def etag_matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: ``W/`` is ignored, ``*`` matches all."""
    for tag in if_none_match.split(","):
        tag = tag.strip().removeprefix("W/")
        if tag in ("*", etag):
            return True
    return False


def _etag_matches(scope: Scope, etag: bytes) -> bool:
    return any(
        name == b"if-none-match" and etag_matches(value.decode("latin-1"), etag.decode())
        for name, value in scope.get("headers", [])
    )


class PublicCaching:
    """A strong ETag (a digest of the body), ``Cache-Control: public, max-age=300`` and
    304 on a matching ``If-None-Match``, for anonymous GETs of the cacheable paths.

    A request with credentials never gets here (``is_private``: SecurityHeaders gives it
    ``no-store``), nor does an answer that sets a cookie or chooses its own
    Cache-Control. The ETag differs when Compression will gzip the body (the client
    accepts gzip and it is at least ``GZIP_MINIMUM_BYTES``): a strong validator names
    one representation, byte for byte. Portal pages also vary by the language cookie,
    hence ``Vary: Cookie`` on HTML; their ETags differ by language anyway.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_cacheable(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        held: list[bytes] = []
        size = 0
        streaming = False

        async def flush(headers: list[tuple[bytes, bytes]]) -> None:
            assert start is not None
            await send({**start, "headers": headers})
            for chunk in held[:-1]:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

        async def caching_send(message: Message) -> None:
            nonlocal start, size, streaming
            if streaming:
                await send(message)
                return
            if message["type"] == "http.response.start":
                names = {n.lower() for n, _ in message.get("headers", [])}
                if message["status"] != 200 or names & {b"set-cookie", b"cache-control"}:
                    streaming = True
                    await send(message)
                    return
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            headers = [*start.get("headers", []), (b"cache-control", CACHE_CONTROL)]
            content_type = {n.lower(): v for n, v in headers}.get(b"content-type", b"")
            if content_type.startswith(b"text/html"):
                headers.append((b"vary", b"Cookie"))
            held.append(message.get("body", b""))
            size += len(held[-1])
            more = message.get("more_body", False)
            if more and size <= ETAG_MAX_BYTES:
                return
            if more:
                streaming = True
                await flush(headers)
                await send(message)
                return
            body = b"".join(held)
            tag = hashlib.sha256(body).hexdigest()[:32]
            if _accepts_gzip(scope) and len(body) >= GZIP_MINIMUM_BYTES:
                tag += "-gzip"
            etag = f'"{tag}"'.encode()
            headers.append((b"etag", etag))
            if _etag_matches(scope, etag):
                kept = [(n, v) for n, v in headers if n.lower() in _NOT_MODIFIED_HEADERS]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
            headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, caching_send)
