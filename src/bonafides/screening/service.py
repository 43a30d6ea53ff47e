"""Single checks and their verification, with stored, certified answers.

``check`` answers "what applies to subject X for action A on day D" by evaluating the
subject's records in Python (the fast path), stores the answer under an unguessable
certificate id with who asked and why, and leaves a ``screening:check:issued`` audit event.
``verify`` shows what a certificate answered and whether the same question gets the same
answer now (digests compared), and what the answer is as of today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from bonafides.codes import CodeError
from bonafides.context import Context
from bonafides.errors import InvalidCodeError
from bonafides.records import digest
from bonafides.rules.evaluate import evaluator_for
from bonafides.rules.loader import rules_for
from bonafides.rules.model import EVALUATOR, Rules
from bonafides.rules.service import (
    KeyedFile,
    file_by_key_with,
    keyed_file,
    load_file_by_key,
    load_files,
)
from bonafides.screening import counterparties
from bonafides.screening.answer import (
    CLEAR,
    MEASURES_APPLY,
    UNKNOWN,
    RecordDetail,
    SubjectInfo,
    expand,
    named_parts,
    subject_answer,
)
from bonafides.screening.batch import rescreen
from bonafides.screening.common import (
    UnknownActionError,
    UnknownCertificateError,
    Verification,
    key_and_shown,
    new_certificate_id,
    record_details,
    require_action,
    today,
    verification_of,
)
from bonafides.security import audit
from bonafides.store.answer_parts import read_parts
from bonafides.store.tables import Check, CheckLine, Subject
from bonafides.store.types import utcnow

__all__ = [
    "CheckResult",
    "InvalidCodeError",
    "UnknownActionError",
    "UnknownCertificateError",
    "Verification",
    "check",
    "line_answer",
    "new_certificate_id",
    "verify",
]


def display_code(code: str) -> str:
    """The code as an answer shows it: organisations in full, persons masked."""
    return key_and_shown(code, None)[1]


# Built once: on the single-check path, building statements costs more than running them.
_SUBJECT = select(Subject.id, Subject.kind, Subject.name).where(Subject.key == bindparam("key"))
_CHECKS = Check.__table__
assert isinstance(_CHECKS, Table)
_INSERT_CHECK = audit.prefixed_insert(_CHECKS)


def answer_from_file(
    rules: Rules, action: str, as_of: dt.date, code: str, found: KeyedFile | None
) -> dict[str, Any]:
    """The answer from a file loaded in one round trip (``load_file_by_key``)."""
    if found is None:
        return subject_answer(rules, action, as_of, code=code, subject=None, entries=[], records={})
    facts = found.file.subject
    records = {r.id: r for r in found.file.records}
    entries = evaluator_for(rules).entries(facts, found.file.records, rules.lists_for(action))
    wanted = [e for e in entries if e.valid_from <= as_of <= e.valid_until]
    details = {
        rid: RecordDetail(
            rid,
            records[rid].type_code,
            records[rid].source,
            found.decision_numbers[rid],
            records[rid].decision_date,
        )
        for e in wanted
        for rid in e.record_ids
    }
    info = SubjectInfo(facts.id, facts.kind, found.name)
    return subject_answer(
        rules, action, as_of, code=code, subject=info, entries=wanted, records=details
    )


def subject_info(session: Session, key: str) -> SubjectInfo | None:
    row = session.connection().execute(_SUBJECT, {"key": key}).first()
    return None if row is None else SubjectInfo(row[0], row[1], row[2])


def evaluate_subject(
    session: Session,
    rules: Rules,
    subject: SubjectInfo | None,
    action: str,
    as_of: dt.date,
    *,
    code: str,
    zone: str,
) -> dict[str, Any]:
    """One subject's answer for an action from its records, by the Python evaluator."""
    if subject is None:
        return subject_answer(rules, action, as_of, code=code, subject=None, entries=[], records={})
    file = load_files(session, [subject.id], zone)[subject.id]
    entries = evaluator_for(rules).entries(file.subject, file.records, rules.lists_for(action))
    wanted = [e for e in entries if e.valid_from <= as_of <= e.valid_until]
    details = record_details(session, (rid for e in wanted for rid in e.record_ids))
    return subject_answer(
        rules, action, as_of, code=code, subject=subject, entries=wanted, records=details
    )


@dataclass(frozen=True)
class CheckResult:
    cert_id: str
    answer: dict[str, Any]
    digest: str

    @property
    def status(self) -> str:
        return str(self.answer["status"])


def check(
    session: Session,
    ctx: Context,
    code: str,
    action: str,
    *,
    as_of: dt.date | None = None,
    inquirer: str,
    purpose: str,
    department: str | None = None,
    rules: Rules | None = None,
) -> CheckResult:
    """Answer, store and certify one check in ``session`` (the caller commits).

    Raises InvalidCodeError, UnknownActionError."""
    rules = rules or rules_for(ctx.catalogue)
    require_action(rules, action)
    try:
        key, shown = key_and_shown(code, ctx.keys)
    except CodeError as exc:
        raise InvalidCodeError(exc.reason) from None
    day = as_of or today(ctx)
    found, claimed = _file_and_claim(session, key, ctx.settings.timezone)
    subject = (
        None
        if found is None
        else SubjectInfo(found.file.subject.id, found.file.subject.kind, found.name)
    )
    body = answer_from_file(rules, action, day, shown, found)
    answer = {"action": action, "as_of": day.isoformat(), **body}
    result = CheckResult(new_certificate_id(), answer, digest(answer))
    stored = {
        "cert_id": result.cert_id,
        "kind": "single",
        "inquirer": inquirer,
        "department": department,
        "purpose": purpose,
        "action": action,
        "as_of": day,
        "subject_id": subject.id if subject else None,
        "lines": None,
        "answer": answer,
        "digest": result.digest,
        "evaluator": EVALUATOR,
        "rules_version": rules.version,
        "rules_digest": rules.digest,
        "created_at": utcnow(),
        "event_id": None,  # the event names the subject; only a batch's lines need it
    }
    audit.append(
        session,
        actor=inquirer,
        tag="screening:check:issued",
        subject_id=subject.id if subject else None,
        object_ref=f"certificate {result.cert_id}",
        purpose=purpose,
        detail={
            "action": action,
            "as_of": day.isoformat(),
            "department": department,
            "status": result.status,
            "digest": result.digest,
        },
        along=(_INSERT_CHECK, {f"w_{name}": value for name, value in stored.items()}),
        claimed=claimed,
    )
    return result


_CLAIM = audit.claim_cte()
_FILE_AND_CLAIM = file_by_key_with([_CLAIM.c.last_id, _CLAIM.c.last_hash], _CLAIM)


def _file_and_claim(
    session: Session, key: str, zone: str
) -> tuple[KeyedFile | None, tuple[int, str] | None]:
    """The subject's file, and on PostgreSQL the audit head claimed in the same round trip.

    A check's latency is its round trips, and the claim would otherwise be one of its
    own. The head is then held while the answer is computed (a fraction of a
    millisecond) as well as while it is written. Without a head row yet, nothing is
    claimed and the append claims as usual.
    """
    if session.connection().dialect.name != "postgresql":
        return load_file_by_key(session, key, zone), None
    rows = session.connection().execute(_FILE_AND_CLAIM, {"key": key}).all()
    if not rows:
        return load_file_by_key(session, key, zone), None
    return keyed_file(session, [row[2:] for row in rows], zone), (rows[0][0], rows[0][1])


# --------------------------------------------------------------------------- verification


def line_answer(session: Session, row: CheckLine) -> dict[str, Any]:
    """A batch line's answer as its digest was taken: clear and unknown lines are stored
    as their status alone, and their answer is rebuilt from it; a listed line's names the
    parts it shares with others, put back from the store."""
    if row.answer is None:
        return {"line": row.line, "code": row.code_display, "status": row.status}
    named = named_parts(row.answer)
    return expand(row.answer, read_parts(session, named)) if named else dict(row.answer)


def verify(
    session: Session, ctx: Context, cert_id: str, *, actor: str, rules: Rules | None = None
) -> Verification:
    """Look a certificate up (``ID`` or ``ID.LINE`` for one line of a batch) and re-ask it;
    the audit event of the verification is written in ``session`` (the caller commits)."""
    rules = rules or rules_for(ctx.catalogue)
    base, _, line_text = cert_id.partition(".")
    zone = ctx.settings.timezone
    day_now = today(ctx)
    stored = session.scalar(select(Check).where(Check.cert_id == base))
    if stored is None or (line_text and not line_text.isdigit()):
        raise UnknownCertificateError(f"no check certificate {cert_id!r}")
    if stored.kind == counterparties.KIND:
        line = int(line_text) if line_text else None
        result = counterparties.verify(session, ctx, stored, line, day_now)
    elif line_text:
        result = _verify_line(session, rules, stored, int(line_text), day_now, zone)
    elif stored.kind == "batch":
        result = _verify_batch(session, rules, stored)
    else:
        result = _verify_single(session, rules, stored, day_now, zone)
    audit.append(
        session,
        actor=actor,
        tag="screening:check:verified",
        subject_id=stored.subject_id,
        object_ref=f"certificate {cert_id}",
        detail={"same_now": result.same_now, "intact": result.intact},
    )
    return result


def _subject(session: Session, subject_id: int | None) -> SubjectInfo | None:
    found = None if subject_id is None else session.get(Subject, subject_id)
    return None if found is None else SubjectInfo(found.id, found.kind, found.name)


def _verify_single(
    session: Session, rules: Rules, stored: Check, day_now: dt.date, zone: str
) -> Verification:
    subject = _subject(session, stored.subject_id)
    code = str(stored.answer.get("code", ""))

    def ask(day: dt.date) -> dict[str, Any]:
        body = evaluate_subject(session, rules, subject, stored.action, day, code=code, zone=zone)
        return {"action": stored.action, "as_of": day.isoformat(), **body}

    now = ask(stored.as_of)
    return verification_of(stored, stored.answer, stored.digest, now, ask(day_now), [])


def _verify_line(
    session: Session, rules: Rules, stored: Check, line: int, day_now: dt.date, zone: str
) -> Verification:
    row = session.scalar(
        select(CheckLine).where(CheckLine.check_id == stored.id, CheckLine.line == line)
    )
    if row is None:
        raise UnknownCertificateError(f"certificate {stored.cert_id} has no line {line}")
    then = line_answer(session, row)
    if row.status not in (MEASURES_APPLY, CLEAR, UNKNOWN):
        return verification_of(stored, then, row.digest, then, None, [], cert=f".{line}")
    subject = _subject(session, row.subject_id)

    def ask(day: dt.date) -> dict[str, Any]:
        body = evaluate_subject(
            session, rules, subject, stored.action, day, code=row.code_display, zone=zone
        )
        return {"line": line, **body}

    return verification_of(
        stored, then, row.digest, ask(stored.as_of), ask(day_now), [], cert=f".{line}"
    )


def _verify_batch(session: Session, rules: Rules, stored: Check) -> Verification:
    changed = rescreen(session, rules, stored)
    return verification_of(
        stored,
        stored.answer,
        stored.digest,
        stored.answer if not changed else {**stored.answer, "changed_lines": len(changed)},
        None,
        changed,
    )
