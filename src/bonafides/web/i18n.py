"""The portal's languages: Chinese by default, English on request, from gettext catalogues.

Each language gets its own Jinja environment with its translations installed, built
once at start-up; a request only picks one. Strings live in the templates as English
msgids and in ``locale/<lang>/LC_MESSAGES/messages.po`` (compiled to ``.mo``), so a
translator edits catalogues, never templates (docs/portal.md has the Babel commands).
"""

from __future__ import annotations

import gettext
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bonafides.meaningful import fewest_characters

LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
COOKIE = "bonafides_lang"
HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
TEMPLATE_DIR = HERE / "templates"

#: The ``lang`` attribute of <html> for each locale.
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Marks a message id for extraction where it is defined; it is translated when shown."""
    return message


class MissingLabelWarning(UserWarning):
    """A label macro met a value it has no words for. The page shows it humanised, so a
    reader never sees ``under_objection``; the test suite turns warnings into errors, so a
    new enum value without a label fails there first."""


def humanise(value: str) -> str:
    """``record_ended`` -> ``Record ended``: the fallback for a value without a label."""
    words = value.replace("_", " ").replace(":", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


def label(kind: str, labels: Mapping[str, str], value: object) -> str:
    """The words for ``value`` among ``labels`` (translated msgids). ``None`` is no value
    and shows nothing; an unknown value warns and shows humanised, never raw."""
    if value is None:
        return ""
    key = str(getattr(value, "value", value))
    found = labels.get(key)
    if found is not None:
        return found
    warnings.warn(f"no {kind} label for {key!r}", MissingLabelWarning, stacklevel=2)
    return humanise(key)


def pick_locale(cookie: str | None) -> str:
    return cookie if cookie in LOCALES else DEFAULT_LOCALE


def translations(locale: str) -> gettext.GNUTranslations:
    """The compiled catalogue; a missing one is an installation error, not a fallback."""
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        return gettext.GNUTranslations(handle)


def _number(value: int | float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def build_environment(locale: str, globals_: Mapping[str, Any]) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = _number
    env.globals.update(globals_)
    env.globals["locale"] = locale
    env.globals["html_lang"] = HTML_LANG[locale]
    env.globals["zh"] = locale == "zh_CN"

    def pick(zh: str | None, en: str | None) -> str:
        """The text in the page's language, or the other one when it has none."""
        first, second = (zh, en) if locale == "zh_CN" else (en, zh)
        return first or second or ""

    env.globals["pick"] = pick
    env.globals["label"] = label
    # A form's minlength: what the service's minimum takes in Chinese, so the browser never
    # refuses a short Chinese answer that the service accepts (bonafides.meaningful).
    env.globals["fewest"] = fewest_characters
    return env
