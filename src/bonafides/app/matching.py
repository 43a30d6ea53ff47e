"""Matching names without a code against the register the store holds (issue 15)."""

from __future__ import annotations

from pathlib import Path

from bonafides.context import Context
from bonafides.ingest.match_file import MatchSummary, match_file
from bonafides.matching.model import Matcher
from bonafides.matching.store import register_index


def match_names(
    ctx: Context, path: Path, out: Path, *, encoding: str | None = None
) -> MatchSummary:
    """Match a file of names; reads only organisations' names and codes, which are public."""
    with ctx.sessions() as session:
        index = register_index(session)
    return match_file(Matcher(index), path, out, encoding=encoding)
