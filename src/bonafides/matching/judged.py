"""What people judged, applied to what the algorithm ranks.

A candidate a person rejected for a name is dropped before the decision: never linked nor
proposed again. A candidate a person accepted for a name links every later row of that
name (in any spelling ``names.judgement_key`` folds) at once: the decision is the
person's, so the explanation says whose, and the algorithm that ranked the others is
still named. A name accepted for firms in several places links only where the row's
place picks one of them; otherwise the algorithm decides as if nobody had judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bonafides.matching.model import (
    MAX_CANDIDATES,
    Candidate,
    Contribution,
    Matcher,
    MatchResult,
    Query,
)
from bonafides.matching.names import judgement_key
from bonafides.matching.regions import agree, code_prefix
from bonafides.store.judgements import Accepted, Verdicts

#: The feature an explanation opens with when a person's acceptance decided.
ACCEPTED_EARLIER = "accepted_earlier"


def _same_place(code: str, region: str | None) -> bool:
    if not region or len(code) != 18 or code[2:4] == "10":
        return True
    return agree(code_prefix(region), code_prefix(code[2:8]))


def _accepted(found: Sequence[Accepted], query: Query) -> Accepted | None:
    here = [a for a in found if _same_place(a.code, query.region)]
    return here[0] if len(here) == 1 else None


def without_rejected(query: Query, ranked: list[Candidate], found: Verdicts) -> list[Candidate]:
    if not found.rejected:
        return ranked
    key = judgement_key(query.name)
    return [c for c in ranked if (key, c.entry.code) not in found.rejected]


def accepted_result(query: Query, ranked: list[Candidate], found: Verdicts) -> MatchResult | None:
    """The link a person's earlier acceptance makes for this row, if one does."""
    accepted = _accepted(found.accepted.get(judgement_key(query.name), ()), query)
    if accepted is None:
        return None
    chosen = next((c for c in ranked if c.entry.code == accepted.code), None)
    note = Contribution(
        ACCEPTED_EARLIER,
        0.0,
        f"accepted earlier by review {accepted.review_id} "
        f"(judgement {accepted.judgement_id}, {accepted.actor}) as {accepted.code}",
    )
    if chosen is None:
        return MatchResult("match", accepted.code, 1.0, tuple(ranked[:MAX_CANDIDATES]), (note,))
    others = [c for c in ranked if c is not chosen]
    return MatchResult(
        "match",
        accepted.code,
        chosen.score,
        (chosen, *others[: MAX_CANDIDATES - 1]),
        (note, *chosen.contributions),
    )


def decide(matcher: Matcher, query: Query, ranked: list[Candidate], found: Verdicts) -> MatchResult:
    """The decision for one row: people's judgements first, then the algorithm's."""
    ranked = without_rejected(query, ranked, found)
    accepted = accepted_result(query, ranked, found)
    if accepted is None:
        return matcher.decide(ranked)
    return replace(accepted, algorithm=matcher.version.name)
