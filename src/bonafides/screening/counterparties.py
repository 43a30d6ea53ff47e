"""Counterparty checks (plan §39, §70): an enterprise uploads its counterparties' codes and
gets the public status of each, under one certificate.

Only what the public may see is answered (``Audience.PUBLIC`` through ``profile_of``,
public list entries through ``entries_of_subject``): the one disclosure rule, so a company
learns nothing about its counterparties that the public pages would not show it, and a
natural person without a public record is ``unknown`` exactly as when nobody is found.

Like a batch screening, the check is stored (``checks`` of kind ``public``, its lines in
``check_lines``) under an unguessable certificate id; ``bonafides verify ID`` and
``ID.LINE`` re-ask it as of its day and say whether the answer is the same now.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Polarity
from bonafides.codes import CodeError
from bonafides.context import Context
from bonafides.disclosure import Audience, subject_visible
from bonafides.records import digest
from bonafides.rules.loader import rules_for
from bonafides.rules.model import ListKind, Rules
from bonafides.screening.common import (
    UnknownCertificateError,
    Verification,
    key_and_shown,
    new_certificate_id,
    verification_of,
)
from bonafides.security import audit
from bonafides.store.lists import entries_of_subject
from bonafides.store.profiles import profile_of
from bonafides.store.tables import Check, CheckLine, Subject
from bonafides.store.types import utcnow

#: ``checks.kind`` of a counterparty check, and the "action" its certificate names.
KIND = "parties"
ACTION = "counterparty.public_status"
#: Named and versioned, as the rule evaluators are: a stored check says what made it.
EVALUATOR = "public-v1"
PURPOSE = "counterparty check on public data"
MAX_CODES = 1000
MAX_BYTES = 256 * 1024
#: What a first row may say instead of a code: it is then a header and skipped.
HEADERS = frozenset({"code", "codes", "uscc", "代码", "统一社会信用代码", "社会信用代码"})

INVALID = "invalid"
UNKNOWN = "unknown"
BLACK_LISTED = "black_listed"
NEGATIVE = "negative_records"
CLEAR = "clear"
STATUSES = (BLACK_LISTED, NEGATIVE, CLEAR, UNKNOWN, INVALID)


class CounterpartyFileError(ValueError):
    """The file cannot be read as a list of codes; the message names the row and why."""


def read_codes(data: bytes, *, max_codes: int = MAX_CODES) -> list[str]:
    """The codes of a CSV file, one per row in its first column; a header row is skipped,
    blank rows too. Anything that is not UTF-8 text of at most ``max_codes`` codes is
    refused as a whole, naming the row."""
    if len(data) > MAX_BYTES:
        raise CounterpartyFileError(f"the file is larger than {MAX_BYTES // 1024} KB")
    if b"\x00" in data:
        raise CounterpartyFileError("the file is binary, not a CSV of codes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CounterpartyFileError(f"row {line}: not UTF-8 text") from None
    codes: list[str] = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cell = row[0].strip() if row else ""
        if not cell or (n == 1 and cell.lower() in HEADERS):
            continue
        if len(cell) > 64:
            raise CounterpartyFileError(f"row {n}: a code has at most 18 characters")
        codes.append(cell)
        if len(codes) > max_codes:
            raise CounterpartyFileError(
                f"row {n}: at most {max_codes} codes per check; split the file"
            )
    if not codes:
        raise CounterpartyFileError("the file holds no codes")
    return codes


def line_answer(
    session: Session,
    ctx: Context,
    line: int,
    code: str,
    day: dt.date,
    *,
    rules: Rules | None = None,
) -> dict[str, Any]:
    """One code's public status on ``day``: what the public pages show of it, counted.
    ``rules`` say which lists are black; a whole check passes them once."""
    try:
        key, shown = key_and_shown(code, ctx.keys)
    except CodeError as exc:
        return {"line": line, "code": code[:64], "status": INVALID, "reason": exc.reason}
    subject = session.scalar(select(Subject).where(Subject.key == key))
    unknown = {"line": line, "code": shown, "status": UNKNOWN}
    if subject is None:
        return unknown
    profile = profile_of(session, subject, audience=Audience.PUBLIC, today=day)
    if not subject_visible(profile.kind, records_shown=bool(profile.records)):
        return unknown
    polarity = Counter(r.polarity for r in profile.records)
    rules = rules or rules_for(ctx.catalogue)
    lists = sorted(
        (
            {
                "list": e.list_code,
                "kind": rules.lists[e.list_code].kind.value if e.list_code in rules.lists else "",
                "until": e.valid_until.isoformat(),
            }
            for e in entries_of_subject(session, subject.id, day)
            if e.valid_from <= day <= e.valid_until
        ),
        key=lambda item: (item["list"], item["until"]),
    )
    negative = polarity.get(Polarity.NEGATIVE.value, 0)
    if any(item["kind"] == ListKind.BLACK.value for item in lists):
        status = BLACK_LISTED
    elif negative:
        status = NEGATIVE
    else:
        status = CLEAR
    return {
        "line": line,
        "code": profile.code,
        "status": status,
        "name": profile.name,
        "region": profile.region,
        "subject_status": profile.status,
        "negative_records": negative,
        "positive_records": polarity.get(Polarity.POSITIVE.value, 0),
        "lists": lists,
    }


@dataclass(frozen=True)
class CounterpartyCheck:
    cert_id: str
    as_of: dt.date
    lines: list[dict[str, Any]]
    counts: dict[str, int]


def _summary(lines: Sequence[dict[str, Any]], day: dt.date) -> dict[str, Any]:
    counts = Counter(str(item["status"]) for item in lines)
    return {
        "action": ACTION,
        "as_of": day.isoformat(),
        "lines": len(lines),
        "counts": {s: counts.get(s, 0) for s in STATUSES},
        "lines_digest": digest([digest(item) for item in lines]),
    }


def check(
    session: Session, ctx: Context, *, inquirer: str, codes: Sequence[str], day: dt.date
) -> CounterpartyCheck:
    """Answer every code, store the check and its lines, and audit it; the caller commits."""
    rules = rules_for(ctx.catalogue)
    lines = [
        line_answer(session, ctx, n, code, day, rules=rules) for n, code in enumerate(codes, 1)
    ]
    summary = _summary(lines, day)
    cert_id = new_certificate_id()
    stored = Check(
        cert_id=cert_id,
        kind=KIND,
        inquirer=inquirer,
        department=None,
        purpose=PURPOSE,
        action=ACTION,
        as_of=day,
        subject_id=None,
        lines=len(lines),
        answer=summary,
        digest=digest(summary),
        evaluator=EVALUATOR,
        rules_version=rules.version,
        rules_digest=rules.digest,
        created_at=utcnow(),
    )
    session.add(stored)
    session.flush()
    session.add_all(
        CheckLine(
            check_id=stored.id,
            line=item["line"],
            code_display=str(item["code"])[:64],
            subject_id=None,
            status=item["status"],
            digest=digest(item),
            answer=item,
        )
        for item in lines
    )
    audit.append(
        session,
        actor=inquirer,
        tag="screening:counterparties:issued",
        object_ref=f"certificate {cert_id}",
        purpose=PURPOSE,
        detail={"as_of": day.isoformat(), "lines": len(lines), "digest": stored.digest},
    )
    return CounterpartyCheck(cert_id, day, lines, summary["counts"])


def verify(
    session: Session, ctx: Context, stored: Check, line: int | None, day_now: dt.date
) -> Verification:
    """Re-ask a counterparty check (or one of its lines) as of its day, and as of today."""
    rows = {
        row.line: row
        for row in session.scalars(
            select(CheckLine)
            .where(CheckLine.check_id == stored.id)
            .where(*([CheckLine.line == line] if line is not None else []))
        )
    }
    if line is not None:
        row = rows.get(line)
        if row is None or row.answer is None:
            raise UnknownCertificateError(f"certificate {stored.cert_id} has no line {line}")
        code = str(row.answer.get("code", ""))
        then_line = row.answer
        if row.status == INVALID or "*" in code:
            # A masked code cannot be asked again; the stored answer is what there is.
            return verification_of(
                stored, then_line, row.digest, then_line, None, [], cert=f".{line}"
            )
        return verification_of(
            stored,
            then_line,
            row.digest,
            line_answer(session, ctx, line, code, stored.as_of),
            line_answer(session, ctx, line, code, day_now),
            [],
            cert=f".{line}",
        )
    changed = []
    rules = rules_for(ctx.catalogue)
    for n, row in sorted(rows.items()):
        answer = row.answer or {}
        code = str(answer.get("code", ""))
        if row.status == INVALID or "*" in code:
            continue
        if digest(line_answer(session, ctx, n, code, stored.as_of, rules=rules)) != row.digest:
            changed.append(n)
    now = stored.answer if not changed else {**stored.answer, "changed_lines": len(changed)}
    return verification_of(stored, stored.answer, stored.digest, now, None, changed)
