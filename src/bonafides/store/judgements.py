"""What people judged of names and candidates, read back for the matcher and the desk.

A judgement is keyed by the name as the matcher reads it (``names.canonical``: widths,
traditional characters, spaces and brackets folded), so 華信（北京）科技 rejected once is
rejected however the next row spells it. The latest accept or reject of a pair decides:
a pair rejected and later accepted is proposed again. Callers key names with
``bonafides.matching.names.judgement_key``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.store.subjects import chunks
from bonafides.store.tables import ReviewJudgement

ACCEPT = "accept"
REJECT = "reject"
UNSURE = "unsure"
VERDICTS = (ACCEPT, REJECT, UNSURE)


def rejected_pairs(session: Session, name_keys: Iterable[str]) -> set[tuple[str, str]]:
    """(name key, code) pairs whose latest accept or reject is a reject, for these keys."""
    keys = sorted(set(name_keys))
    latest: dict[tuple[str, str], str] = {}
    for part in chunks(keys, 500):
        rows = session.execute(
            select(ReviewJudgement.name_key, ReviewJudgement.code, ReviewJudgement.verdict)
            .where(
                ReviewJudgement.name_key.in_(part),
                ReviewJudgement.code.is_not(None),
                ReviewJudgement.verdict.in_((ACCEPT, REJECT)),
            )
            .order_by(ReviewJudgement.id)
        )
        for key, code, verdict in rows:
            if code is not None:
                latest[(key, code)] = verdict
    return {pair for pair, verdict in latest.items() if verdict == REJECT}
