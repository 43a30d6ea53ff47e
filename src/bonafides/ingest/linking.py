"""Rows that name their subject without a code, linked by name matching or left for review.

bonafides-names (the version ``ALGORITHM`` names) decides: a match makes the row a record
of the matched subject, as if the row had carried its code, and the link is kept with the
algorithm, score and explanation (``match_links``); review and none keep the row in the
review queue with the candidates. Persons are never matched by name: only organisations
are in the register. What people judged at the review desk comes first
(``review_judgements``): a candidate rejected for the name is dropped before the decision,
never linked nor proposed again; a candidate accepted for the name links the row at once,
the explanation naming the judgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bonafides.codes import CodeError, parse_uscc
from bonafides.ingest.validate import RowOutcome, RowValidator
from bonafides.matching import judged
from bonafides.matching.keys import StoreMatcher
from bonafides.matching.model import Matcher, MatchResult, Query
from bonafides.matching.names import judgement_key
from bonafides.matching.store import cached_register_index
from bonafides.records import RecordInput, SubjectRef, kind_of_uscc
from bonafides.store.judgements import Verdicts, verdicts


@dataclass(frozen=True, slots=True)
class Linked:
    row: int
    record: RecordInput
    result: MatchResult
    amends: str | None


@dataclass(frozen=True, slots=True)
class Unlinked:
    outcome: RowOutcome
    result: MatchResult | None


class NameLinker:
    """The matcher of one ingest run; the register is read when a row first needs it."""

    def __init__(self, sessions: sessionmaker[Session], matcher: Matcher | None = None) -> None:
        self._sessions = sessions
        self._matcher = matcher

    @property
    def matcher(self) -> Matcher:
        """The register's keys in the store when they were synced, else the register in
        memory: the same candidates and decisions either way."""
        if self._matcher is None:
            self._matcher = StoreMatcher.open(self._sessions)
        if self._matcher is None:
            with self._sessions() as session:
                self._matcher = Matcher(cached_register_index(session))
        return self._matcher

    @property
    def used(self) -> bool:
        """Whether a row needed the matcher in this run."""
        return self._matcher is not None

    def judgements(self, names: list[str]) -> Verdicts:
        """What people accepted and rejected for these names."""
        with self._sessions() as session:
            return verdicts(session, (judgement_key(n) for n in names))

    def match(self, query: Query, found: Verdicts) -> MatchResult:
        """The decision over the candidates, people's judgements of the name first."""
        return judged.decide(self.matcher, query, self.matcher.candidates(query), found)

    def link(
        self, validator: RowValidator, reviews: list[tuple[int, RowOutcome]]
    ) -> tuple[list[Linked], list[Unlinked]]:
        linked: list[Linked] = []
        unlinked: list[Unlinked] = []
        found = self.judgements([o.review.subject_name for _, o in reviews if o.review])
        queries: list[Query] = []
        for _, outcome in reviews:
            review = outcome.review
            assert review is not None
            values = outcome.unlinked[0] if outcome.unlinked else {}
            queries.append(
                Query(
                    name=review.subject_name,
                    legal_rep=_text(values.get("legal_representative")),
                    reg_no=_text(values.get("business_registration_no")),
                    org_code=_text(values.get("organisation_code")),
                )
            )
        ranked = self.matcher.candidates_for(queries)
        for (row, outcome), query, candidates in zip(reviews, queries, ranked, strict=True):
            review = outcome.review
            assert review is not None
            result = judged.decide(self.matcher, query, candidates, found)
            record = None
            subject = _subject(result.code, review.subject_name) if result.code else None
            if result.decision == "match" and subject is not None:
                record = validator.linked_record(outcome, subject)
            if record is None:
                unlinked.append(Unlinked(outcome, result))
            else:
                linked.append(Linked(row, record, result, outcome.amends))
        return linked, unlinked


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _subject(code: str, name: str) -> SubjectRef | None:
    """The matched organisation under the name the row gave (kept as an alias)."""
    try:
        parsed = parse_uscc(code)
    except CodeError:
        return None
    return SubjectRef(
        code=parsed.code,
        kind=kind_of_uscc(parsed.registration_authority, parsed.institution_type),
        name=name,
        region=parsed.region,
    )


def candidates_json(result: MatchResult | None) -> list[dict[str, Any]] | None:
    """What the review queue keeps of a proposal: each candidate with its explanation."""
    if result is None:
        return None
    return [
        {**c.to_json(), "explanation": [f.to_json() for f in c.contributions]}
        for c in result.candidates
    ]
