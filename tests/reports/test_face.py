"""The report face cut to GB 2312 once per process (issue 21, item 3): reports are laid out
word for word as with the whole face, a character outside the cut is drawn from the whole
face, and where the whole face is missing nothing is cut.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

from bonafides.context import Context
from bonafides.reports import face
from bonafides.reports.envelope import SignedReport
from bonafides.reports.messages import LANGS
from bonafides.reports.render import render_pdf
from bonafides.security.signing import FileKeyStore
from tests import factories
from tests.reports.conftest import NOW, issue, put, record

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or face.cut_face() is None,
    reason="poppler-utils and WenQuanYi Micro Hei (scripts/system-packages.sh)",
)

#: Not in GB 2312 (so not in the cut), in WenQuanYi Micro Hei: a name can hold them.
RARE = "堃喆"


def _report(ctx: Context, keys: FileKeyStore, name: str) -> SignedReport:
    firm = factories.org(name=name)
    put(
        ctx,
        *(
            record(
                firm,
                "market.penalty",
                source="samr",
                decided=NOW.date().replace(day=n + 1),
                decision_no=f"京市监罚〔2026〕FACE-{n:03d}号",
                content={
                    "violation_type": "虚假宣传 false advertising",
                    "violation_facts": "经查。" * 9,
                },
            )
            for n in range(12)
        ),
    )
    signed: SignedReport = issue(ctx, keys, firm.code)
    return signed


def _in_new_thread(render: Callable[[], bytes]) -> bytes:
    """A render in a thread of its own, so with a font configuration made for it."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(render).result()


def _whole_face(monkeypatch: pytest.MonkeyPatch, signed: SignedReport, lang: str) -> bytes:
    with monkeypatch.context() as patched:
        patched.setattr(face, "register", lambda *_: False)
        return _in_new_thread(lambda: render_pdf(signed, lang))


def _cut_face(signed: SignedReport, lang: str) -> bytes:
    return _in_new_thread(lambda: render_pdf(signed, lang))


def _poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _words(pdf: bytes, tmp_path: Path) -> list[str]:
    """Every word of every page with its box, in order."""
    return re.findall(r"<word [^>]*>[^<]*</word>", _poppler("pdftotext", pdf, tmp_path, "-bbox"))


def _fonts(pdf: bytes, tmp_path: Path) -> list[str]:
    """The embedded fonts' names without their subset tags."""
    rows = _poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
    return sorted(row.split()[0].split("+", 1)[-1] for row in rows)


def test_the_cut_holds_what_the_whole_face_covers_of_the_repertoire() -> None:
    cut = face.cut_face()
    assert cut is not None
    cut_map = TTFont(io.BytesIO(cut)).getBestCmap()
    whole = TTFont("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", fontNumber=0).getBestCmap()
    assert set(cut_map) == face.repertoire() & set(whole)
    assert all(ord(c) not in face.repertoire() and ord(c) in whole for c in RARE)


@pytest.fixture
def monkeypatch_face() -> Iterator[None]:
    yield
    face.cut_face.cache_clear()
    face._data_url.cache_clear()


@pytest.mark.parametrize("lang", LANGS)
def test_a_report_is_laid_out_word_for_word_as_with_the_whole_face(
    ctx: Context,
    keys: FileKeyStore,
    lang: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    signed = _report(ctx, keys, "北京字面测试科技有限公司")

    cut, whole = _cut_face(signed, lang), _whole_face(monkeypatch, signed, lang)

    assert _words(cut, tmp_path) == _words(whole, tmp_path)
    assert _fonts(cut, tmp_path) == ["WenQuanYi-Micro-Hei-GB2312"]
    assert _fonts(whole, tmp_path) == ["WenQuanYi-Micro-Hei"]


def test_a_character_outside_the_cut_is_drawn_from_the_whole_face(
    ctx: Context, keys: FileKeyStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    signed = _report(ctx, keys, f"北京{RARE}字面测试科技有限公司")

    cut, whole = _cut_face(signed, "zh"), _whole_face(monkeypatch, signed, "zh")

    assert f"北京{RARE}字面测试科技有限公司" in _poppler("pdftotext", cut, tmp_path)
    assert _fonts(cut, tmp_path) == ["WenQuanYi-Micro-Hei", "WenQuanYi-Micro-Hei-GB2312"]
    assert _words(cut, tmp_path) == _words(whole, tmp_path)


def test_without_the_whole_face_nothing_is_cut(
    monkeypatch: pytest.MonkeyPatch, monkeypatch_face: None
) -> None:
    face.cut_face.cache_clear()
    face._data_url.cache_clear()
    monkeypatch.setattr(face, "SOURCE_FAMILY", "No Such Face Sans")

    assert face.cut_face() is None
    assert face.register(object(), None) is False
