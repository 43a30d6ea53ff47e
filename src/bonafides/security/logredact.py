"""Keep resident ID numbers out of the logs: a filter that masks any in a log line.

A person's full ID number must never be written to an access log (principle 5), yet an
old link or a hand-typed URL can still carry one in its path or query. The filter masks
every 18-character run that is one (region, a birth date, sequence, and a valid
ISO 7064 check character; not inside a longer run of letters or digits) to its region
and last four characters, the way the portal shows it. It is installed on uvicorn's
access logger and the app's own loggers.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from bonafides.codes import CodeError, Uscc, mask_id, parse_subject_code, ric_check_digit

_RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9A-Za-z])"
)

#: Six digits in a row: a region code, or the start of an ID number being typed.
_DIGIT_RUN = re.compile(r"[0-9]{6,}")

#: Loggers whose lines may carry a request's path or query.
LOGGERS = ("uvicorn.access", "uvicorn.error", "bonafides")


def _mask(found: re.Match[str]) -> str:
    number = found.group(0)
    if ric_check_digit(number[:17]) != number[17].upper():
        return number  # an all-digit USCC or another number, not a person's
    return mask_id(number)


def redact(text: str) -> str:
    return _RESIDENT_ID.sub(_mask, text)


def carries_resident_id(text: str) -> bool:
    """Whether ``text`` holds an 18-character run shaped like an ID number, its check
    character right or not (a keyed ``p:`` ref, a run of hex, never matches)."""
    return _RESIDENT_ID.search(unicodedata.normalize("NFKC", text)) is not None


def may_hold_resident_id(text: str) -> bool:
    """Whether ``text`` may hold a person's ID number, whole or in part, and so must
    never be put in a URL: any run of six or more digits (full-width ones too), unless
    the whole text is an organisation's code, which is public. Deliberately wider than
    ``redact``: a wrong check character or a number typed half-way is still most of it.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    if not _DIGIT_RUN.search(folded):
        return False
    try:
        return not isinstance(parse_subject_code(folded), Uscc)
    except CodeError:
        return True


class RedactIdentifiers(logging.Filter):
    """Masks ID numbers in the message and its arguments; never drops a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def install() -> None:
    """Add the filter to ``LOGGERS`` once (the app factory calls this in every worker)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactIdentifiers) for f in logger.filters):
            logger.addFilter(RedactIdentifiers())
