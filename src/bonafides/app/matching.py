"""Matching names without a code against the register the store holds (issue 15)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from bonafides.context import Context
from bonafides.ingest.match_file import MatchSummary, match_file
from bonafides.matching.keys import StoreMatcher, sync
from bonafides.matching.model import Matcher
from bonafides.matching.names import judgement_key
from bonafides.matching.store import register_index
from bonafides.store.judgements import Verdicts, verdicts


def match_names(
    ctx: Context, path: Path, out: Path, *, encoding: str | None = None
) -> MatchSummary:
    """Match a file of names; reads only organisations' names and codes, which are public,
    and what the review desk judged of the names."""
    matcher: Matcher | None = StoreMatcher.open(ctx.sessions)
    if matcher is None:
        with ctx.sessions() as session:
            matcher = Matcher(register_index(session))

    def judgements(names: list[str]) -> Verdicts:
        with ctx.sessions() as session:
            return verdicts(session, (judgement_key(n) for n in names))

    return match_file(matcher, path, out, encoding=encoding, judgements=judgements)


def sync_keys(session: Session) -> int:
    """Key the register's names created or changed since the last sync, in the caller's
    unit of work (``register load`` and ingest end with it); the subjects keyed."""
    return sync(session)
