"""ASGI middleware for every response: strict security headers, ``no-store`` on private
answers, a body size limit, and gzip for clients that ask.

Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``: these run on every request,
the profile endpoint's included, and the wrapper costs nothing measurable.
"""

from __future__ import annotations

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


#: Routes that take files or batches: submissions, batch screening, the console upload,
#: report verification uploads, and due-process forms with attachments. Every other
#: route (sign-in, registration, report issuing, JSON and form routes) gets the small limit.
UPLOAD_PREFIXES = (
    "/api/v1/submissions",
    "/api/v1/checks",
    "/api/v1/reports/verify",
    "/api/v1/objections",
    "/api/v1/repairs",
    "/api/v1/complaints",
    "/console",
    "/verify",
    "/objections",
    "/repairs",
    "/complaints",
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
GZIP_EXCLUDED_TYPES = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf")


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
