"""The gettext catalogues stay in step with the templates, and the compiled files with them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bonafides.web.i18n import HERE, LOCALE_DIR, LOCALES, translations

MessageId = str | tuple[str, ...]


def _template_ids() -> set[MessageId]:
    with (HERE / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    ids: set[MessageId] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(HERE), method_map, options_map
    ):
        ids.add(message)
    return ids


def _translated(message: Message) -> bool:
    string = message.string
    if string is None or isinstance(string, str):
        return bool(string)
    return all(string)


def _po(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_has_exactly_the_template_messages(locale: str) -> None:
    with _po(locale).open("rb") as handle:
        catalogue = read_po(handle)
    in_po = {m.id for m in catalogue if m.id}
    assert in_po == _template_ids(), "run the pybabel commands in docs/portal.md"


def test_chinese_is_complete_and_well_formed() -> None:
    with _po("zh_CN").open("rb") as handle:
        catalogue = read_po(handle)
    untranslated = [m.id for m in catalogue if m.id and not _translated(m)]
    assert untranslated == []
    problems = list(catalogue.check())
    assert problems == []


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_the_po_file(locale: str) -> None:
    """What gettext answers from the .mo is what the .po says (or the msgid, untranslated)."""
    with _po(locale).open("rb") as handle:
        source = read_po(handle)
    compiled = translations(locale)
    stale: list[MessageId] = []
    for message in source:
        got: MessageId
        want: MessageId
        if isinstance(message.id, tuple | list):
            singular, plural = str(message.id[0]), str(message.id[1])
            strings = list(message.string or ()) if _translated(message) else [singular, plural]
            got = (compiled.ngettext(singular, plural, 1), compiled.ngettext(singular, plural, 2))
            want = (str(strings[0]), str(strings[-1]))
        elif message.id:
            got = compiled.gettext(message.id)
            want = str(message.string) if _translated(message) else message.id
        else:
            continue
        if got != want:
            stale.append(got)
    assert stale == [], "run: pybabel compile -d src/bonafides/web/locale -D messages"


def test_vendored_htmx_is_the_recorded_release() -> None:
    script = (HERE / "static" / "htmx.min.js").read_bytes()
    assert hashlib.sha256(script).hexdigest() == (
        "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
    )
    assert "2.0.11" in (HERE / "static" / "README.md").read_text("utf-8")
    assert (HERE / "static" / "htmx.LICENSE").read_text("utf-8").startswith("Zero-Clause BSD")
