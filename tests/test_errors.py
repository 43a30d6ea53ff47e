"""One set of error kinds (``bonafides.errors``), each answered once per adapter."""

from __future__ import annotations

import datetime as dt

import pytest
import typer
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bonafides import errors
from bonafides.app import public
from bonafides.cli import _Commands
from bonafides.http.problems import install
from bonafides.reports.certificates import CertificateError
from bonafides.reports.envelope import EnvelopeError
from bonafides.reports.model import ReportRequestError, SubjectNotFoundError
from bonafides.reports.service import ReportAccessError, ReportNotFoundError
from bonafides.screening import service as screening
from bonafides.workflows import common

#: Every domain error a use case lets through, and the kind it must be answered as.
KINDS = [
    (SubjectNotFoundError, errors.NotFound),
    (ReportNotFoundError, errors.NotFound),
    (CertificateError, errors.NotFound),
    (screening.UnknownCertificateError, errors.NotFound),
    (ReportAccessError, errors.Forbidden),
    (ReportRequestError, errors.Invalid),
    (EnvelopeError, errors.Invalid),
    (screening.UnknownActionError, errors.Invalid),
    (common.NotFoundError, errors.NotFound),
    (common.ForbiddenError, errors.Forbidden),
    (common.ConflictError, errors.Conflict),
    (common.InvalidError, errors.Invalid),
    (common.TooEarlyError, errors.TooEarly),
]


@pytest.mark.parametrize(("error", "kind"), KINDS, ids=[e.__name__ for e, _ in KINDS])
def test_each_domain_error_is_one_of_the_shared_kinds(
    error: type[Exception], kind: type[errors.BonafidesError]
) -> None:
    assert issubclass(error, kind)


def test_an_invalid_code_is_one_error_wherever_it_is_raised() -> None:
    """The portal's public reads and screening once raised two unrelated classes."""
    assert vars(public)["InvalidCodeError"] is screening.InvalidCodeError is errors.InvalidCodeError
    refused = errors.InvalidCodeError("check digit")
    assert refused.reason == "check digit"
    assert str(refused) == "invalid code: check digit"


def test_workflow_names_stay_importable_and_keep_their_family() -> None:
    early = common.TooEarlyError("not before", possible_from=dt.date(2027, 1, 1))
    assert isinstance(early, common.WorkflowError)
    assert isinstance(early, common.InvalidError)
    assert early.possible_from.year == 2027


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.NotFound("no such thing"), 404),
        (errors.Forbidden("not yours"), 403),
        (errors.Unauthenticated("sign in"), 401),
        (errors.Conflict("already decided"), 409),
        (errors.Invalid("bad field"), 422),
        (errors.TooEarly("wait", dt.date(2027, 1, 1)), 422),
        (errors.TooLarge("too big"), 413),
        (errors.RateLimited("slow down", 30), 429),
        (common.ConflictError("the objection is already decided"), 409),
        (ReportAccessError("a full report"), 403),
    ],
)
def test_the_api_and_the_portal_answer_each_kind_with_one_status(
    error: errors.BonafidesError, status: int
) -> None:
    app = FastAPI()

    def page(request: object, code: int, message: str) -> HTMLResponse:
        return HTMLResponse(f"<p>{message}</p>", status_code=code)

    install(app, "/api/v1", page)

    @app.get("/api/v1/refuse")
    @app.get("/refuse")
    def refuse() -> None:
        raise error

    client = TestClient(app, raise_server_exceptions=False)
    api = client.get("/api/v1/refuse")
    assert api.status_code == status
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json() == {"type": "about:blank", "title": str(error), "status": status}
    portal = client.get("/refuse")
    assert portal.status_code == status
    assert portal.text == f"<p>{error}</p>"
    if status == 401:
        assert api.headers["www-authenticate"] == "Bearer"
    if status == 429:
        assert api.headers["retry-after"] == "30"


def test_the_cli_ends_every_refusal_with_one_line_and_exit_code_2() -> None:
    app = typer.Typer(cls=_Commands)

    @app.command()
    def decide(number: int) -> None:
        raise common.ConflictError(f"objection {number} is already decided")

    @app.command()
    def other() -> None:
        """A second command, so that the group dispatches by name."""

    result = CliRunner().invoke(app, ["decide", "7"])
    assert result.exit_code == errors.EXIT_REFUSED == 2
    assert result.output.strip() == "error: objection 7 is already decided"
