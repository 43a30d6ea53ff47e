"""The report face cut to the characters reports commonly print, once per process.

WeasyPrint subsets the embedded face on every render, and for WenQuanYi Micro Hei (a
5 MB collection of 34,000 glyphs) that costs more than anything but layout and drawing:
HarfBuzz plans the subset over the whole face, and since the subset keeps the glyph ids,
the tables indexed by glyph id (``loca``, ``hmtx``, ``vmtx``) of the subset still span
every id up to the highest one used, and are deflated again with each file. Cutting the
face once per process to ASCII, Latin-1, the general and CJK punctuation, the full-width
forms and the whole GB 2312 repertoire (its 6,763 hanzi, kana, Greek and Cyrillic) leaves
about 13,000 glyphs with small ids, so each render subsets and deflates a third of it.

The cut face is registered under its own family name (``FAMILY``), which ``report.css``
names first and the whole face second: a character outside the cut (a rare hanzi in a
name, an address or free text) falls back to the whole face, glyph by glyph, so every
character a report can hold is still drawn in WenQuanYi Micro Hei, with the same metrics
(tests/reports/test_face.py: same word boxes as the whole face, a character outside the
cut drawn and extractable). Where the whole face is not installed, nothing is cut and the
style sheet's next family applies, as before.

HarfBuzz's subsetter (``libharfbuzz-subset``, which WeasyPrint needs anyway) cuts it in
about a tenth of a second; its functions are declared here on an FFI of cffi's own class
(cffi comes with WeasyPrint).
"""

from __future__ import annotations

import atexit
import base64
import ctypes.util
import shutil
import threading
import weakref
from functools import cache
from typing import Any

#: The family name ``report.css`` asks for first.
FAMILY = "WenQuanYi Micro Hei GB2312"
#: The whole face the cut is taken from (readiness.REPORT_FONT names the same).
SOURCE_FAMILY = "WenQuanYi Micro Hei"

_DECLARATIONS = """
    typedef struct hb_blob_t hb_blob_t;
    typedef struct hb_face_t hb_face_t;
    typedef struct hb_set_t hb_set_t;
    typedef struct hb_subset_input_t hb_subset_input_t;
    typedef uint32_t hb_codepoint_t;
    hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
    void hb_blob_destroy (hb_blob_t *blob);
    const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
    hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
    void hb_face_destroy (hb_face_t *face);
    hb_blob_t *hb_face_reference_blob (hb_face_t *face);
    void hb_set_add_range (hb_set_t *set, hb_codepoint_t first, hb_codepoint_t last);
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


def _cut(ffi: Any, path: str, index: int, points: frozenset[int]) -> bytes | None:
    """The face at ``path`` and ``index`` cut to ``points`` by HarfBuzz, glyphs renumbered."""
    name = ctypes.util.find_library("harfbuzz-subset")
    if name is None:
        return None
    hb = ffi.dlopen(name)
    blob = hb.hb_blob_create_from_file_or_fail(path.encode())
    if blob == ffi.NULL:
        return None
    face = ffi.gc(hb.hb_face_create(blob, index), hb.hb_face_destroy)
    hb.hb_blob_destroy(blob)
    subset_input = ffi.gc(hb.hb_subset_input_create_or_fail(), hb.hb_subset_input_destroy)
    unicodes = hb.hb_subset_input_unicode_set(subset_input)
    for point in sorted(points):
        hb.hb_set_add(unicodes, point)
    cut = hb.hb_subset_or_fail(face, subset_input)
    if cut == ffi.NULL:
        return None
    cut = ffi.gc(cut, hb.hb_face_destroy)
    data = ffi.gc(hb.hb_face_reference_blob(cut), hb.hb_blob_destroy)
    length = ffi.new("unsigned int *")
    start = hb.hb_blob_get_data(data, length)
    return bytes(ffi.buffer(start, length[0])) if length[0] else None


@cache
def cut_face() -> bytes | None:
    """The cut face's font file, made once per process; ``None`` where the whole face or
    HarfBuzz's subsetter is missing."""
    ffi = _ffi()
    source = _source(ffi)
    if source is None:
        return None
    return _cut(ffi, *source, repertoire())


_lock = threading.Lock()


@cache
def _data_url() -> str | None:
    data = cut_face()
    return None if data is None else "data:font/ttf;base64," + base64.b64encode(data).decode()


#: The font configurations given the cut face: each holds a temporary folder with its copy.
_registered: weakref.WeakSet[Any] = weakref.WeakSet()


def register(font_config: Any, url_fetcher: Any) -> bool:
    """Add the cut face to a WeasyPrint font configuration under ``FAMILY`` (once per
    thread, about 20 ms: WeasyPrint writes it to a folder of its own for fontconfig)."""
    with _lock:
        url = _data_url()
    if url is None:
        return False
    font_config.add_font_face({"src": [("external", url)], "font_family": FAMILY}, url_fetcher)
    _registered.add(font_config)
    return True


@atexit.register
def _remove_copies() -> None:
    """Remove the face's copies of configurations still alive at exit.

    A configuration removes its folder when collected, but one that lives until the
    interpreter shuts down is collected after ``shutil`` is gone: its folder would stay in
    the temporary directory (1.3 MB per process) and Python would print the error.
    """
    for config in list(_registered):
        folder, config._folder = config._folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
