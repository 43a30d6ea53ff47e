"""The kinds of refusal every layer shares, so each adapter maps them once.

A service or use case raises the kind that says what went wrong (nothing found, not
allowed, wrong state, bad input, too early, too often); it never picks an HTTP status or
an exit code. The API answers each kind with one problem+json status, the portal with
one error page, the CLI with one exit code (``bonafides.http.problems`` and
``bonafides.cli``). Domain errors keep their own names (``ReportNotFoundError``,
``workflows.common.ConflictError``) and derive from these kinds, which are named for
the answer they get, like HTTP's, hence without the ``Error`` suffix.
"""

from __future__ import annotations

import datetime as dt


class BonafidesError(Exception):
    """Base of every refusal a user can be told about in one sentence (the message)."""


class NotFound(BonafidesError, LookupError):  # noqa: N818
    """No such thing, or none the caller may know of: both are answered alike."""


class Forbidden(BonafidesError, PermissionError):  # noqa: N818
    """The caller is known (or anonymous) and may not do this."""


class Unauthenticated(Forbidden):
    """Nobody is signed in and this needs someone: the answer invites a sign-in."""


class Conflict(BonafidesError):  # noqa: N818
    """The thing is not in a state that allows this step (already decided, say)."""


class Invalid(BonafidesError, ValueError):  # noqa: N818
    """The request itself is unusable: a bad code, an unknown action, a missing field."""


class InvalidCodeError(Invalid):
    """The input is not a valid USCC or resident ID number; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid code: {reason}")
        self.reason = reason


class TooLarge(Invalid):
    """The input is larger than anything genuine of its kind."""


class TooEarly(Invalid):
    """The step is allowed only from ``possible_from`` on (credit repair, for one)."""

    def __init__(self, message: str, possible_from: dt.date) -> None:
        super().__init__(message)
        self.possible_from = possible_from


class RateLimited(BonafidesError):  # noqa: N818
    """Too many attempts; ``retry_after`` seconds until the next one may succeed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


#: How each kind is answered over HTTP, most specific first (the API and the portal).
HTTP_STATUS: tuple[tuple[type[BonafidesError], int], ...] = (
    (Unauthenticated, 401),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (TooLarge, 413),
    (RateLimited, 429),
    (Invalid, 422),
)


def http_status(exc: BonafidesError) -> int:
    """The one HTTP status for ``exc``: 422 for a kind not listed (an unusable request)."""
    for kind, status in HTTP_STATUS:
        if isinstance(exc, kind):
            return status
    return 422


#: How every kind ends a CLI command (DESIGN §6): nothing was done, so 2, as for
#: unusable input or arguments; 1 stays for a job done with some input rejected.
EXIT_REFUSED = 2
