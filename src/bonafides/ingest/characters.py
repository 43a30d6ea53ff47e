"""Which characters a submitted value may carry, and how stored text is shown safely.

Two dangers come in with text from other systems. Characters that are not text at all
(lone surrogates from broken encoders, bytes that are not valid in the file's encoding)
cannot be stored and would fail the database or the response on the way out. Control
characters (NUL, ESC, the bidirectional overrides such as RLO U+202E) are invisible on a
page but change what a terminal or a reader shows: ESC sequences recolour or clear an
operator's terminal, RLO makes 公司 read backwards. Both are refused, naming the
character, so the department fixes its export.

Invisible characters with no meaning in the text (zero-width space, word joiner, soft
hyphen, a stray byte-order mark) come from copy and paste; they are removed, and noted,
so that 北京\u200b公司 and 北京公司 stay one name. Zero-width (non-)joiners are kept
where they shape a joining script (Mongolian, Arabic-script Uyghur) and removed elsewhere.

``printable`` is the other side: stored or rejected text as a terminal or log may show
it, with every non-plain character written as an escape.
"""

from __future__ import annotations

import re
import unicodedata

from bonafides.normalise import BadValueError, Cleaned

#: Whitespace that ``normalise.text`` collapses to one space: allowed in, never stored.
WHITESPACE = frozenset("\t\n\r")
#: Removed without a word: no meaning in the text, only room for look-alike names.
INVISIBLE = frozenset("\u200b\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e")
JOINERS = frozenset("\u200c\u200d")
#: Scripts whose letters join, where (non-)joiners change the shape of a word.
_JOINING = (
    (0x0600, 0x06FF),  # Arabic (Uyghur, Kazakh in China)
    (0x0750, 0x077F),
    (0x08A0, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
    (0x1800, 0x18AF),  # Mongolian
    (0x0F00, 0x0FFF),  # Tibetan
)


#: Any invisible character or joiner: the fast path's one scan (a regex, not a loop per
#: character, which cost bulk loads a third of their validation time).
_HIDDEN = re.compile("[" + "".join(sorted(INVISIBLE | JOINERS)) + "]")


def is_plain(char: str) -> bool:
    """A character that shows as itself: not a control, format, surrogate or unassigned code."""
    return unicodedata.category(char) not in ("Cc", "Cf", "Cs")


def _joining(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in _JOINING)


def _name(char: str) -> str:
    if unicodedata.category(char) == "Cs":
        return f"U+{ord(char):04X} (half of a surrogate pair: not valid Unicode)"
    label = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {label}".rstrip() if label else f"U+{ord(char):04X}"


def clean(raw: str, *, encoding: str = "utf-8") -> Cleaned[str]:
    """``raw`` without invisible characters, or ``BadValueError`` naming a refused one.

    ``encoding`` names the file's encoding in the reason for bytes that did not decode
    (readers decode with ``surrogateescape``, so such a byte arrives as U+DC80..U+DCFF).
    """
    if raw.isprintable() and _HIDDEN.search(raw) is None:
        return Cleaned(raw)
    for char in raw:
        if char in WHITESPACE or char in INVISIBLE or char in JOINERS or is_plain(char):
            continue
        if unicodedata.category(char) == "Cs" and 0xDC80 <= ord(char) <= 0xDCFF:
            byte = ord(char) - 0xDC00
            raise BadValueError(f"contains bytes that are not valid {encoding} text (0x{byte:02X})")
        raise BadValueError(f"contains the control character {_name(char)}")
    kept = []
    for i, char in enumerate(raw):
        if char in INVISIBLE:
            continue
        if char in JOINERS:
            before = raw[i - 1] if i else ""
            after = raw[i + 1] if i + 1 < len(raw) else ""
            if not (before and after and _joining(before) and _joining(after)):
                continue
        kept.append(char)
    value = "".join(kept)
    return Cleaned(value, None if value == raw else "invisible characters removed")


def printable(value: str) -> str:
    """``value`` as a terminal, a log line or a report may show it: every control, format
    or surrogate character written as a Python-style escape (\\x1b, \\u202e, \\udc80)."""
    if value.isprintable():
        return value
    out = []
    for char in value:
        if is_plain(char):
            out.append(char)
        else:
            point = ord(char)
            out.append(f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}")
    return "".join(out)
