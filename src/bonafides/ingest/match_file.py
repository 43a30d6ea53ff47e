"""Matching a file of names: one JSON line out per data row in, in the order read.

The columns: 名称 (required), and 地区代码, 法定代表人, 注册号 or 组织机构代码 when known;
English headers are accepted too. The output interface is fixed (acceptance checks rely
on it): {"line", "decision", "code", "score", "candidates", "explanation", "algorithm"},
``line`` 1 being the first data row. What people judged at the review desk applies as
in ingest: a rejected pair is never proposed, an accepted one links.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from bonafides.ingest.readers import Cells, UnusableInputError, open_table
from bonafides.matching import judged
from bonafides.matching.model import ALGORITHM, Matcher, Query
from bonafides.store.judgements import Verdicts

#: What people judged of some names (``bonafides.store.judgements.verdicts`` over a store).
Judgements = Callable[[list[str]], Verdicts]

#: Field -> header spellings (compared after NFKC, trimmed, lower case).
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "name": ("名称", "name", "subject_name", "企业名称", "单位名称"),
    "region": ("地区代码", "region", "region_code", "行政区划代码"),
    "legal_rep": ("法定代表人", "legal_rep", "legal_representative", "负责人"),
    "reg_no": ("注册号", "reg_no", "registration_number"),
    "org_code": ("组织机构代码", "org_code", "organisation_code", "organization_code"),
}
_REGION: Final = re.compile(r"^\d{6}$")


def _key(header: str) -> str:
    return unicodedata.normalize("NFKC", header).strip().lower()


def map_columns(header: list[str]) -> dict[str, str]:
    """Field -> the file's column; a file without a name column cannot be matched."""
    by_key = {_key(h): h for h in header}
    found: dict[str, str] = {}
    for field_name, spellings in COLUMNS.items():
        for spelling in spellings:
            if _key(spelling) in by_key:
                found[field_name] = by_key[_key(spelling)]
                break
    if "name" not in found:
        raise UnusableInputError(f"no 名称 column; the columns are {', '.join(header) or '(none)'}")
    return found


@dataclass
class MatchSummary:
    rows: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    algorithm: str = ALGORITHM


def _cell(cells: Cells, column: str | None) -> str | None:
    if column is None:
        return None
    value = cells.get(column)
    if value is None:
        return None
    value = unicodedata.normalize("NFKC", value).strip()
    return value or None


def _query(cells: Cells, columns: dict[str, str]) -> tuple[Query | None, list[dict[str, Any]]]:
    """The row as a query (None without a name), and notes on what was ignored."""
    name = _cell(cells, columns.get("name"))
    notes: list[dict[str, Any]] = []
    if name is None:
        return None, notes
    region = _cell(cells, columns.get("region"))
    if region is not None and not _REGION.match(region):
        notes.append(
            {
                "feature": "region_ignored",
                "contribution": 0.0,
                "detail": f"地区代码 {region[:20]!r} is not a 6-digit region code; ignored",
            }
        )
        region = None
    query = Query(
        name=(cells.get(columns["name"]) or "").strip(),
        region=region,
        legal_rep=_cell(cells, columns.get("legal_rep")),
        reg_no=_cell(cells, columns.get("reg_no")),
        org_code=_cell(cells, columns.get("org_code")),
    )
    return query, notes


def match_rows(
    matcher: Matcher,
    rows: list[tuple[int, Cells]],
    columns: dict[str, str],
    judgements: Judgements | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """Each (spreadsheet row, cells)'s answer; a row without a name, or with a malformed
    region, says so. People's judgements of the names are read once for the rows."""
    prepared = [(row_no, *_query(cells, columns)) for row_no, cells in rows]
    named = [q.name for _, q, _ in prepared if q is not None]
    found = judgements(named) if judgements is not None and named else Verdicts()
    ranked = iter(matcher.candidates_for([q for _, q, _ in prepared if q is not None]))
    answers: list[tuple[int, dict[str, Any]]] = []
    for row_no, query, notes in prepared:
        if query is None:
            answers.append((row_no, _empty(row_no - 1)))
            continue
        result = judged.decide(matcher, query, next(ranked), found)
        answer = result.to_json(row_no - 1)
        answer["explanation"] = [*answer["explanation"], *notes]
        answers.append((row_no, answer))
    return answers


def match_file(
    matcher: Matcher,
    path: Path,
    out: Path,
    *,
    encoding: str | None = None,
    judgements: Judgements | None = None,
) -> MatchSummary:
    """Match every data row of ``path`` and write the answers to ``out``.

    The output is written beside ``out`` and renamed over it at the end, so an unusable
    file or a failure half way leaves no partial output behind.
    """
    table = open_table(path, encoding=encoding)
    columns = map_columns(table.columns)
    if not out.parent.is_dir():
        raise UnusableInputError(f"cannot write {out}: no such directory {out.parent}")
    summary = MatchSummary()
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as handle:
            _write(matcher, table.chunks(), columns, handle, summary, judgements)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return summary


def _write(
    matcher: Matcher,
    chunks: Any,
    columns: dict[str, str],
    handle: IO[str],
    summary: MatchSummary,
    judgements: Judgements | None,
) -> None:
    following = 2  # the spreadsheet number of the first data row
    for chunk in chunks:
        answers = match_rows(matcher, chunk.rows, columns, judgements)
        answers.extend((row_no, _unreadable(row_no - 1, reason)) for row_no, reason in chunk.broken)
        answers.sort(key=lambda pair: pair[0])
        # Rows the reader skips because every cell is empty still get their line.
        filled: list[dict[str, Any]] = []
        for row_no, answer in answers:
            filled.extend(_empty(n - 1) for n in range(following, row_no))
            filled.append(answer)
            following = row_no + 1
        filled.extend(_empty(n - 1) for n in range(following, chunk.last_row + 1))
        following = max(following, chunk.last_row + 1)
        for answer in filled:
            summary.rows += 1
            summary.decisions[answer["decision"]] += 1
            handle.write(json.dumps(answer, ensure_ascii=False) + "\n")


def _empty(line: int) -> dict[str, Any]:
    return _nothing(line, "no_name", "名称 is empty")


def _unreadable(line: int, reason: str) -> dict[str, Any]:
    return _nothing(line, "unreadable", reason)


def _nothing(line: int, feature: str, detail: str) -> dict[str, Any]:
    return {
        "line": line,
        "decision": "none",
        "code": None,
        "score": 0.0,
        "candidates": [],
        "explanation": [{"feature": feature, "contribution": 0.0, "detail": detail}],
        "algorithm": ALGORITHM,
    }
