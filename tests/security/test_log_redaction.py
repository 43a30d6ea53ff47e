"""Resident ID numbers never reach the access log, even when a URL still carries one."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.settings import Settings
from tests import factories


def test_the_access_log_line_of_a_request_carrying_an_id_shows_it_masked(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    person = factories.person()
    number = person.code
    create_app(settings)
    access = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # The line uvicorn's access logger writes: client, method, full path, version, status.
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "10.0.0.1:5000",
            "GET",
            f"/api/v1/subjects/{number}?q={number.lower()}&lang=en",
            "1.1",
            200,
        )
    line = caplog.records[-1].getMessage()
    assert number not in line
    assert number[6:14] not in line, "the birth date is hidden"
    assert f"/api/v1/subjects/{number[:6]}********{number[-4:]}?q=" in line
    assert "lang=en" in line


def test_other_numbers_are_left_alone(settings: Settings) -> None:
    from bonafides.security.logredact import redact

    uscc = factories.org().code
    assert redact(f"/api/v1/subjects/{uscc}") == f"/api/v1/subjects/{uscc}"
    assert redact("/reports/1234567890123456789012") == "/reports/1234567890123456789012"


def test_a_served_request_logs_no_id(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    number = factories.person().code
    app = create_app(settings)
    with caplog.at_level(logging.DEBUG), TestClient(app) as client:
        client.get(f"/api/v1/subjects/{number}")
        logging.getLogger("bonafides").warning("lookup of %s", number)
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("bonafides", "uvicorn")]
    assert ours
    assert all(number not in r.getMessage() for r in ours)
