"""The report face cut to the characters reports commonly print, kept in a cache file.

WeasyPrint subsets the embedded face on every render, and for WenQuanYi Micro Hei (a
5 MB collection of 34,000 glyphs) that costs more than anything but layout and drawing:
HarfBuzz plans the subset over the whole face, and since the subset keeps the glyph ids,
the tables indexed by glyph id (``loca``, ``hmtx``, ``vmtx``) of the subset still span
every id up to the highest one used, and are deflated again with each file. Cutting the
face to ASCII, Latin-1, the general and CJK punctuation, the full-width forms and the
whole GB 2312 repertoire (its 6,763 hanzi, kana, Greek and Cyrillic) leaves about 13,000
glyphs with small ids, so each render subsets and deflates a third of it.

The cut is a font of its own family (``FAMILY``, written into its ``name`` table), which
``report.css`` names first and the whole face second: a character outside the cut (a
rare hanzi in a name, an address or free text) falls back to the whole face, glyph by
glyph, so every character a report can hold is still drawn in WenQuanYi Micro Hei, with
the same metrics (tests/reports/test_face.py). Where the whole face is not installed, or
the cache cannot be written, nothing is cut and the style sheet's next family applies.

The cut is made once per machine, not per process: it is written to a file in the cache
directory (``BONAFIDES_REPORT_FONT_CACHE``, by default the platform's user cache),
named by the digest of what decides its bytes (the source face, the repertoire, the
family name, HarfBuzz's version) and of its own bytes, so a stale, partial or corrupt
file is never used, only replaced; it is written under a temporary name and renamed, so
processes that cut at the same time each install a whole file. Each font configuration
is then given that file with fontconfig's ``FcConfigAppFontAddFile``, as a system font:
no ``@font-face``, so WeasyPrint copies nothing into a temporary folder of its own and
nothing is left to remove at exit.

HarfBuzz's subsetter (``libharfbuzz-subset``, which WeasyPrint needs anyway) cuts it in
about a quarter of a second; its functions are declared here on an FFI of cffi's own
class (cffi comes with WeasyPrint).
"""

from __future__ import annotations

import ctypes.util
import hashlib
import io
import logging
import os
import tempfile
import threading
from functools import cache
from pathlib import Path
from typing import Any

from bonafides.settings import get_settings

log = logging.getLogger(__name__)

#: The family name ``report.css`` asks for first.
FAMILY = "WenQuanYi Micro Hei GB2312"
#: The whole face the cut is taken from (readiness.REPORT_FONT names the same).
SOURCE_FAMILY = "WenQuanYi Micro Hei"
#: Changes whenever this module cuts differently from the same inputs (part of the
#: cache file's name).
CUT_VERSION = 1

_DECLARATIONS = """
    typedef struct hb_blob_t hb_blob_t;
    typedef struct hb_face_t hb_face_t;
    typedef struct hb_set_t hb_set_t;
    typedef struct hb_subset_input_t hb_subset_input_t;
    typedef uint32_t hb_codepoint_t;
    const char *hb_version_string (void);
    hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
    void hb_blob_destroy (hb_blob_t *blob);
    const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
    hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
    void hb_face_destroy (hb_face_t *face);
    hb_blob_t *hb_face_reference_blob (hb_face_t *face);
    void hb_set_add (hb_set_t *set, hb_codepoint_t codepoint);
    hb_subset_input_t *hb_subset_input_create_or_fail (void);
    void hb_subset_input_destroy (hb_subset_input_t *input);
    hb_set_t *hb_subset_input_unicode_set (hb_subset_input_t *input);
    hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
    typedef struct _FcPattern FcPattern;
    typedef struct _FcConfig FcConfig;
    FcPattern *FcPatternCreate (void);
    void FcPatternDestroy (FcPattern *p);
    int FcPatternAddString (FcPattern *p, const char *object, const uint8_t *s);
    int FcConfigSubstitute (FcConfig *config, FcPattern *p, int kind);
    void FcDefaultSubstitute (FcPattern *pattern);
    FcPattern *FcFontMatch (FcConfig *config, FcPattern *p, int *result);
    int FcPatternGetString (FcPattern *p, const char *object, int n, uint8_t **s);
    int FcPatternGetInteger (FcPattern *p, const char *object, int n, int *i);
"""

#: Code point ranges kept besides GB 2312: Basic Latin, Latin-1, general punctuation,
#: CJK symbols and punctuation, half- and full-width forms.
RANGES = ((0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x3000, 0x303F), (0xFF00, 0xFFEF))
#: The cache files' names: ``<STEM>-<inputs' digest>-<bytes' digest>.ttf``.
STEM = "wqy-microhei-gb2312"


@cache
def repertoire() -> frozenset[int]:
    """The code points the cut keeps: ``RANGES`` and every character of GB 2312."""
    points = {point for first, last in RANGES for point in range(first, last + 1)}
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return frozenset(points)


def cache_dir() -> Path:
    """Where the cut is kept: the setting, else the platform's user cache."""
    configured = get_settings().report_font_cache
    if configured is not None:
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bonafides" / "fonts"


def _ffi() -> Any:
    """An FFI of cffi's own class (cffi comes with WeasyPrint) declaring what is used here."""
    from weasyprint.text.ffi import ffi as weasyprint_ffi

    ffi = type(weasyprint_ffi)()
    ffi.cdef(_DECLARATIONS)
    return ffi


def _source(ffi: Any) -> tuple[str, int] | None:
    """The file and index of the whole face, as fontconfig finds it."""
    name = ctypes.util.find_library("fontconfig")
    if name is None:
        return None
    fc = ffi.dlopen(name)
    pattern = ffi.gc(fc.FcPatternCreate(), fc.FcPatternDestroy)
    fc.FcPatternAddString(pattern, b"family", SOURCE_FAMILY.encode())
    fc.FcConfigSubstitute(ffi.NULL, pattern, 0)  # FcMatchPattern
    fc.FcDefaultSubstitute(pattern)
    result = ffi.new("int *")
    match = fc.FcFontMatch(ffi.NULL, pattern, result)
    if match == ffi.NULL:
        return None
    match = ffi.gc(match, fc.FcPatternDestroy)
    string = ffi.new("uint8_t **")
    index = ffi.new("int *")
    if fc.FcPatternGetString(match, b"family", 0, string) != 0:
        return None
    if ffi.string(string[0]).decode() != SOURCE_FAMILY:
        return None  # fontconfig offers another face in its place
    if fc.FcPatternGetString(match, b"file", 0, string) != 0:
        return None
    if fc.FcPatternGetInteger(match, b"index", 0, index) != 0:
        return None
    return ffi.string(string[0]).decode(), index[0]


def _harfbuzz(ffi: Any) -> Any | None:
    name = ctypes.util.find_library("harfbuzz-subset")
    return None if name is None else ffi.dlopen(name)


def _cut(ffi: Any, hb: Any, path: str, index: int) -> bytes | None:
    """The face at ``path`` and ``index`` cut to the repertoire by HarfBuzz, glyphs
    renumbered, and named ``FAMILY``."""
    blob = hb.hb_blob_create_from_file_or_fail(path.encode())
    if blob == ffi.NULL:
        return None
    whole = ffi.gc(hb.hb_face_create(blob, index), hb.hb_face_destroy)
    hb.hb_blob_destroy(blob)
    subset_input = ffi.gc(hb.hb_subset_input_create_or_fail(), hb.hb_subset_input_destroy)
    unicodes = hb.hb_subset_input_unicode_set(subset_input)
    for point in sorted(repertoire()):
        hb.hb_set_add(unicodes, point)
    cut = hb.hb_subset_or_fail(whole, subset_input)
    if cut == ffi.NULL:
        return None
    cut = ffi.gc(cut, hb.hb_face_destroy)
    data = ffi.gc(hb.hb_face_reference_blob(cut), hb.hb_blob_destroy)
    length = ffi.new("unsigned int *")
    start = hb.hb_blob_get_data(data, length)
    return _named(bytes(ffi.buffer(start, length[0]))) if length[0] else None


def _named(data: bytes) -> bytes:
    """The font ``data`` under ``FAMILY``: fontconfig then lists it as a family of its
    own, and the whole face's name still finds only the whole face."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    font = TTFont(io.BytesIO(data), recalcTimestamp=False)  # the same bytes every time
    names = font["name"]
    for name_id in (1, 3, 4, 6, 16, 17, 18):
        names.removeNames(nameID=name_id)
    for name_id, value in (
        (1, FAMILY),
        (3, f"{FAMILY} {CUT_VERSION}"),
        (4, FAMILY),
        (6, FAMILY.replace(" ", "")),
    ):
        names.setName(value, name_id, 3, 1, 0x409)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _inputs_digest(ffi: Any, hb: Any, path: str, index: int) -> str:
    """The digest of everything that decides the cut's bytes."""
    digest = hashlib.sha256(Path(path).read_bytes())
    version = ffi.string(hb.hb_version_string()).decode()
    points = ",".join(map(str, sorted(repertoire())))
    for part in (str(index), points, FAMILY, version, str(CUT_VERSION)):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:32]


def _file_name(inputs: str, data: bytes) -> str:
    return f"{STEM}-{inputs}-{hashlib.sha256(data).hexdigest()[:16]}.ttf"


def _cached(directory: Path, inputs: str) -> Path | None:
    """The valid cache file for ``inputs``; a file whose bytes do not match its name (cut
    short, overwritten, damaged) is removed."""
    for candidate in sorted(directory.glob(f"{STEM}-{inputs}-*.ttf")):
        try:
            data = candidate.read_bytes()
        except OSError:
            continue
        if candidate.name == _file_name(inputs, data):
            return candidate
        log.warning("report face cache: %s is damaged; cutting the face again", candidate)
        candidate.unlink(missing_ok=True)
    return None


def _install(directory: Path, inputs: str, data: bytes) -> Path:
    """Write the cut under a temporary name and rename it, so that a reader sees a whole
    file or none, whoever else is writing the same one."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / _file_name(inputs, data)
    handle, name = tempfile.mkstemp(dir=directory, prefix=f".{STEM}-", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        temporary.chmod(0o644)  # mkstemp's 0600 would keep it from other users
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


_lock = threading.Lock()


def cut_face_file() -> Path | None:
    """The cut's cache file, found or made once per process; ``None`` where the whole face
    or HarfBuzz's subsetter is missing or the cache cannot be written."""
    with _lock:
        return _cut_face_file()


@cache
def _cut_face_file() -> Path | None:
    ffi = _ffi()
    source = _source(ffi)
    hb = _harfbuzz(ffi)
    if source is None or hb is None:
        return None
    try:
        directory = cache_dir()
        inputs = _inputs_digest(ffi, hb, *source)
        found = _cached(directory, inputs)
        if found is not None:
            return found
        data = _cut(ffi, hb, *source)
        return None if data is None else _install(directory, inputs, data)
    except (OSError, RuntimeError) as error:  # RuntimeError: no home directory
        log.warning("report face cache: cannot cut the face (%s); reports use it whole", error)
        return None


def forget() -> None:
    """Look for (or make) the cache file again at the next font configuration."""
    with _lock:
        _cut_face_file.cache_clear()


def register(font_config: Any) -> bool:
    """Give a WeasyPrint font configuration the cut as an installed font of ``FAMILY``
    (once per thread: fontconfig reads the file's tables, a few milliseconds)."""
    from weasyprint.text.ffi import ffi, fontconfig, pangoft2

    # WeasyPrint's FontConfiguration keeps its fontconfig configuration as ``_config``
    # (version 70); should a later version not, reports are set in the whole face.
    config = getattr(font_config, "_config", None)
    if config is None:
        return False
    for _attempt in range(2):
        path = cut_face_file()
        if path is None:
            return False
        if fontconfig.FcConfigAppFontAddFile(config, os.fsencode(path)):
            pangoft2.pango_fc_font_map_config_changed(
                ffi.cast("PangoFcFontMap *", font_config.font_map)
            )
            return True
        forget()  # the file went away since this process found it
    return False
