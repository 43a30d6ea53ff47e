"""CSV cells a spreadsheet will not run (DESIGN §7, formula injection).

Every CSV the platform writes (list downloads, batch screening results, open-data
exports) passes its cells through ``csv_cell``, so the rule is written once.
"""

from __future__ import annotations

#: What a spreadsheet reads as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """The text of a cell; text that starts like a formula is quoted with an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
