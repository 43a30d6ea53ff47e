"""The parts batch answers share, kept once under their digest (``AnswerPart``).

Content-addressed: a digest always names the same text, so keeping a part that is
there already changes nothing, and what a session has read it need not read again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bonafides.store.tables import AnswerPart

#: Where a session keeps the parts it has read (``Session.info``).
_READ = "bonafides.answer_parts"


def keep_parts(session: Session, parts: Mapping[str, str]) -> None:
    """Store each part (digest to canonical JSON text) that is not stored yet."""
    if not parts:
        return
    rows = [{"digest": digest, "body": body} for digest, body in sorted(parts.items())]
    insert = pg_insert if session.connection().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(AnswerPart).values(rows).on_conflict_do_nothing())


def read_parts(session: Session, digests: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The parts named, parsed; a digest not stored is left out."""
    wanted = set(digests)
    read: dict[str, dict[str, Any]] = session.info.setdefault(_READ, {})
    missing = wanted - read.keys()
    if missing:
        for digest, body in session.execute(
            select(AnswerPart.digest, AnswerPart.body).where(AnswerPart.digest.in_(missing))
        ):
            read[digest] = json.loads(body)
    return {digest: read[digest] for digest in wanted if digest in read}
