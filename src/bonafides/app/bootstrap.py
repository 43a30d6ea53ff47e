"""Bringing a store into service: migrate, load reference data, optionally demo data.

``bonafides init`` calls this; so do ``make demo`` and the benchmarks, so there is
one way a store comes to be.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.progress import ProgressFn
from bonafides.rules.records import write_records
from bonafides.security.signing import file_key_store, keys_dir
from bonafides.settings import Settings
from bonafides.store.db import migrate
from bonafides.store.reference import sync_catalogue
from bonafides.store.subjects import add_former_names, resolve
from bonafides.store.tables import Record, Subject

DEMO_CHUNK = 500
T = TypeVar("T")


def initialise(
    settings: Settings,
    *,
    demo_subjects: int = 0,
    seed: int = 1,
    progress: ProgressFn | None = None,
    today: dt.date | None = None,
) -> str:
    """Migrate to the newest schema, sync the catalogue, and load demo data if asked."""
    ctx = Context(settings)
    try:
        started = time.perf_counter()
        migrate(
            ctx.engine,
            vault=ctx.vault,
            anchor=ctx.audit_anchor,
            partitions=ctx.settings.pg_partitions,
        )
        with UnitOfWork(ctx.sessions) as unit:
            changed = sync_catalogue(unit.session, ctx.catalogue)
            unit.commit()
        key_id = file_key_store(keys_dir(settings.data_dir).resolve()).ensure()
        lines = [
            f"store ready at {ctx.engine.url.render_as_string(hide_password=True)}",
            f"catalogue {ctx.catalogue.version}: {len(ctx.catalogue.types)} record types, "
            f"{len(ctx.catalogue.departments)} departments"
            + (" (loaded)" if changed else " (already current)"),
            f"report signing key {key_id} (public keys at /api/v1/keys)",
        ]
        if demo_subjects:
            records = load_demo(
                ctx, subjects=demo_subjects, seed=seed, progress=progress, today=today
            )
            lines.append(
                f"demo data: {demo_subjects:,} subjects, {records:,} records (seed {seed})"
            )
            with ctx.sessions() as session:
                examples = example_codes(session)
            if examples:
                lines.append(f"try: bonafides subject {examples[0]}")
        lines.append(f"done in {time.perf_counter() - started:.1f} s")
        return "\n".join(lines)
    finally:
        ctx.close()


def example_codes(session: Session, count: int = 3) -> list[str]:
    """Organisations with the fullest files, to point a newcomer at something to look at."""
    rows = session.execute(
        select(Subject.code_display)
        .join(Record, Record.subject_id == Subject.id)
        .where(Subject.kind == "legal_person")
        .group_by(Subject.id, Subject.code_display)
        .order_by(func.count().desc(), Subject.id)
        .limit(count)
    )
    return [code for (code,) in rows]


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def load_demo(
    ctx: Context,
    *,
    subjects: int,
    seed: int,
    progress: ProgressFn | None = None,
    today: dt.date | None = None,
) -> int:
    """Store synthetic subjects and their decisions as the demo departments' submissions.

    ``progress`` hears the subjects stored after each committed chunk, out of ``subjects``.
    """
    from bonafides.synth.generator import generate

    today = today or ctx.today()
    total = 0
    stored = 0
    if progress is not None:
        progress(stored, subjects)
    stream = generate(subjects, seed, catalogue=ctx.catalogue, today=today)
    for batch in _batches(stream, DEMO_CHUNK):
        with UnitOfWork(ctx.sessions) as unit:
            session = unit.session
            ids = resolve(session, ctx.keys, [s.ref for s in batch], source=None)
            for subject in batch:
                if subject.former_names:
                    add_former_names(
                        session,
                        ids[ctx.keys.key(subject.ref.code, subject.ref.kind)],
                        subject.former_names,
                    )
            items = [r.record for s in batch for r in s.records]
            write_records(
                session,
                ctx.keys,
                items,
                actor="demo",
                catalogue_version=ctx.catalogue.version,
            )
            unit.commit()
            total += len(items)
        stored += len(batch)
        if progress is not None:
            progress(stored, subjects)
    return total
