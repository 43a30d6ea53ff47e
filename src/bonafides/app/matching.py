"""Matching names without a code against the register the store holds (issue 15)."""

from __future__ import annotations

from pathlib import Path

from bonafides.context import Context
from bonafides.ingest.match_file import MatchSummary, match_file
from bonafides.matching.model import Matcher
from bonafides.matching.names import judgement_key
from bonafides.matching.store import register_index
from bonafides.store.judgements import Verdicts, verdicts


def match_names(
    ctx: Context, path: Path, out: Path, *, encoding: str | None = None
) -> MatchSummary:
    """Match a file of names; reads only organisations' names and codes, which are public,
    and what the review desk judged of the names."""
    with ctx.sessions() as session:
        index = register_index(session)

    def judgements(names: list[str]) -> Verdicts:
        with ctx.sessions() as session:
            return verdicts(session, (judgement_key(n) for n in names))

    return match_file(Matcher(index), path, out, encoding=encoding, judgements=judgements)
