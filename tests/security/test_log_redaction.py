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


def test_what_may_hold_an_id_number_is_kept_out_of_urls() -> None:
    """Wider than the log filter: a number typed in part, mistyped or in full-width digits
    still counts; an organisation's code and a plain name do not."""
    from bonafides.security.logredact import carries_resident_id, may_hold_resident_id

    number = factories.person().code
    wrong = number[:-1] + ("1" if number.endswith("0") else "0")
    full_width = number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    for held in (number, wrong, number[:10], full_width, f"张三{number}", number.lower()):
        assert may_hold_resident_id(held), held
    for public in ("杭州西湖龙井茶叶有限公司", "Blue Ocean 2025", factories.org().code, ""):
        assert not may_hold_resident_id(public), public
    assert carries_resident_id(f"/search?q={wrong}")
    assert not carries_resident_id("/subjects/p:" + "1" * 64)
