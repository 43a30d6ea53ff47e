"""The report font check finds the face the style sheet asks for, and only that one."""

from __future__ import annotations

from pathlib import Path

import bonafides.reports
from bonafides.readiness import REPORT_FONT, font_failure
from bonafides.reports import face

CSS = Path(bonafides.reports.__file__).parent / "templates" / "report.css"


def test_the_checked_font_is_the_reports_face_and_the_source_of_its_cut() -> None:
    assert f'font-family: "{face.FAMILY}", "{REPORT_FONT}",' in CSS.read_text("utf-8")
    assert face.SOURCE_FAMILY == REPORT_FONT


def test_the_report_font_is_installed() -> None:
    assert font_failure() is None


def test_a_missing_font_is_named() -> None:
    failure = font_failure("No Such Face Sans")
    assert failure is not None
    assert failure.check == "font"
    assert failure.reason == "the report font 'No Such Face Sans' is not installed"
