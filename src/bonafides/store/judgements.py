"""What people judged of names and candidates, read back for the matcher and the desk.

A judgement is keyed by the name as the matcher reads it (``names.canonical``: widths,
traditional characters, spaces and brackets folded), so 華信（北京）科技 rejected once is
rejected however the next row spells it. The latest accept or reject of a pair decides:
a pair rejected and later accepted is proposed again. Callers key names with
``bonafides.matching.names.judgement_key``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.store.subjects import chunks
from bonafides.store.tables import ReviewJudgement

ACCEPT = "accept"
REJECT = "reject"
UNSURE = "unsure"
VERDICTS = (ACCEPT, REJECT, UNSURE)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A pair a person accepted: the code, and the judgement that accepted it."""

    code: str
    review_id: int
    judgement_id: int
    actor: str


@dataclass(frozen=True, slots=True)
class Verdicts:
    """The standing judgements of some names: pairs rejected, and per name the pairs
    accepted (several when one name was accepted for firms in several places)."""

    rejected: set[tuple[str, str]] = field(default_factory=set)
    accepted: dict[str, list[Accepted]] = field(default_factory=dict)


def verdicts(session: Session, name_keys: Iterable[str]) -> Verdicts:
    """The latest accept or reject of each (name key, code) pair, for these keys."""
    keys = sorted(set(name_keys))
    latest: dict[tuple[str, str], tuple[str, Accepted]] = {}
    for part in chunks(keys, 500):
        rows = session.execute(
            select(
                ReviewJudgement.name_key,
                ReviewJudgement.code,
                ReviewJudgement.verdict,
                ReviewJudgement.review_id,
                ReviewJudgement.id,
                ReviewJudgement.actor,
            )
            .where(
                ReviewJudgement.name_key.in_(part),
                ReviewJudgement.code.is_not(None),
                ReviewJudgement.verdict.in_((ACCEPT, REJECT)),
            )
            .order_by(ReviewJudgement.id)
        )
        for key, code, verdict, review_id, judgement_id, actor in rows:
            if code is not None:
                latest[(key, code)] = (verdict, Accepted(code, review_id, judgement_id, actor))
    found = Verdicts()
    for (key, code), (verdict, accepted) in latest.items():
        if verdict == REJECT:
            found.rejected.add((key, code))
        else:
            found.accepted.setdefault(key, []).append(accepted)
    return found


def rejected_pairs(session: Session, name_keys: Iterable[str]) -> set[tuple[str, str]]:
    """(name key, code) pairs whose latest accept or reject is a reject, for these keys."""
    return verdicts(session, name_keys).rejected
