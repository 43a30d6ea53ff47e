"""The report face cut to GB 2312 once per process (issue 21, item 3): reports are laid out
word for word as with the whole face, a character outside the cut is drawn from the whole
face, where the whole face is missing nothing is cut; the cut is kept in one cache file
per machine, a damaged one is cut again, and no process leaves a file behind.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from weasyprint.text.fonts import FontConfiguration

from bonafides.context import Context
from bonafides.reports import face
from bonafides.reports.envelope import SignedReport
from bonafides.reports.messages import LANGS
from bonafides.reports.render import render_pdf
from bonafides.security.signing import FileKeyStore
from bonafides.settings import get_settings
from tests import factories
from tests.reports.conftest import NOW, issue, put, record

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or face.cut_face_file() is None,
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
    cut = face.cut_face_file()
    assert cut is not None
    font = TTFont(cut)
    whole = TTFont("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", fontNumber=0).getBestCmap()
    assert set(font.getBestCmap()) == face.repertoire() & set(whole)
    assert all(ord(c) not in face.repertoire() and ord(c) in whole for c in RARE)
    assert font["name"].getDebugName(1) == face.FAMILY


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


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache directory of its own, looked in afresh."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("BONAFIDES_REPORT_FONT_CACHE", str(folder))
    get_settings.cache_clear()
    face.forget()
    yield folder
    get_settings.cache_clear()
    face.forget()


def test_without_the_whole_face_nothing_is_cut(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(face, "SOURCE_FAMILY", "No Such Face Sans")

    assert face.cut_face_file() is None
    assert face.register(FontConfiguration()) is False
    assert not cache.exists()


def test_the_cut_is_made_once_and_found_by_the_next_process(cache: Path) -> None:
    made = face.cut_face_file()
    assert made is not None
    assert made.parent == cache
    face.forget()

    found = face.cut_face_file()

    assert found == made
    assert [path.name for path in cache.iterdir()] == [made.name]


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flipped(data: bytes) -> bytes:
    return data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:]


@pytest.mark.parametrize("damage", [_truncated, _flipped, lambda _: b""])
def test_a_damaged_cache_file_is_cut_again(cache: Path, damage: Callable[[bytes], bytes]) -> None:
    made = face.cut_face_file()
    assert made is not None
    data = made.read_bytes()
    made.write_bytes(damage(data))
    (cache / f".{face.STEM}-left-by-a-killed-process.tmp").write_bytes(data[:10])
    face.forget()

    again = face.cut_face_file()

    assert again == made
    assert again.read_bytes() == data


def test_an_unwritable_cache_leaves_reports_in_the_whole_face(cache: Path) -> None:
    cache.parent.mkdir(exist_ok=True)
    cache.write_bytes(b"a file where the directory should be")

    assert face.cut_face_file() is None
    assert face.register(FontConfiguration()) is False


def test_a_font_configuration_without_a_fontconfig_configuration_gets_no_cut() -> None:
    assert face.register(FontConfiguration()) is True
    assert face.register(object()) is False


#: A process that sets a page with the cut in two threads, writes it to the file it is
#: given, and says what is in its temporary directory while its font configurations live.
_PROCESS = """
import os, sys, tempfile, threading
from bonafides.reports.render import lay_out
def page():
    return lay_out('<html lang="zh"><p>北京字面测试科技有限公司 行政处罚</p></html>').write_pdf()
worker = threading.Thread(target=page)
worker.start()
worker.join()
open(sys.argv[1], "wb").write(page())
print(*os.listdir(tempfile.gettempdir()))
"""


def test_processes_leave_no_file_behind_and_print_nothing(tmp_path: Path) -> None:
    temporary, cache = tmp_path / "tmp", tmp_path / "cache"
    temporary.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(temporary),
        "BONAFIDES_REPORT_FONT_CACHE": str(cache),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    made: list[os.stat_result] = []
    for run in range(2):
        pdf = tmp_path / f"page{run}.pdf"
        done = subprocess.run(
            [sys.executable, "-c", _PROCESS, str(pdf)], env=env, capture_output=True, text=True
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, "\n", "")
        assert list(temporary.iterdir()) == []
        assert _fonts(pdf.read_bytes(), tmp_path) == ["WenQuanYi-Micro-Hei-GB2312"]
        (cut,) = cache.iterdir()
        made.append(cut.stat())
    assert (made[1].st_ino, made[1].st_mtime_ns) == (made[0].st_ino, made[0].st_mtime_ns)


def test_processes_cutting_at_once_each_get_the_whole_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {
        **os.environ,
        "BONAFIDES_REPORT_FONT_CACHE": str(cache),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    code = "from bonafides.reports import face; print(face.cut_face_file())"
    started = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    answers = [process.communicate() for process in started]

    (cut,) = cache.iterdir()
    assert answers == [(f"{cut}\n".encode(), b"")] * 3
    assert TTFont(cut)["name"].getDebugName(1) == face.FAMILY
