"""The operator's record and file use cases that the CLI runs: read a subject's whole
file, revoke a record, expire records past retention, sign an audit checkpoint.

Each commits once through a ``UnitOfWork``; a refusal is a ``bonafides.errors`` kind,
which the CLI prints as one line with exit code 2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.disclosure import Audience
from bonafides.errors import NotFound
from bonafides.normalise import decision_number
from bonafides.records import RecordStatus
from bonafides.rules.records import change_status
from bonafides.security import audit
from bonafides.security.anchor import Checkpoint, checkpoint_now
from bonafides.store.profiles import Profile, load_profile
from bonafides.store.tables import Record
from bonafides.store.types import utcnow
from bonafides.workflows.retention import ExpiryResult, expire_records


def operator_file(ctx: Context, code: str, *, actor: str, today: dt.date) -> Profile:
    """A subject's whole file as the credit office sees it; the read is audited."""
    with UnitOfWork(ctx.sessions) as unit:
        profile = load_profile(
            unit.session, ctx.keys, code, audience=Audience.OPERATOR, today=today
        )
        if profile is None:
            raise NotFound(f"unknown subject {code!r}: no decision in this store concerns it")
        audit.append(
            unit.session,
            actor=actor,
            tag="cli:subject:read",
            subject_id=profile.subject_id,
            purpose="operator profile query",
        )
        unit.commit()
    return profile


def revoke(
    ctx: Context, *, source: str, decision: str, subject: str | None, reason: str, actor: str
) -> Record:
    """Revoke one record: a new version with status revoked, its list entries refreshed.

    Raises ``LookupError`` (no such decision, or one naming several subjects)."""
    with UnitOfWork(ctx.sessions) as unit:
        record = change_status(
            unit.session,
            source=source,
            decision_no=decision_number(decision).value,
            status=RecordStatus.REVOKED,
            actor=actor,
            reason=reason,
            party=ctx.keys.key_for_code(subject) if subject else None,
        )
        unit.commit()
    return record


def expire(
    ctx: Context,
    *,
    as_of: dt.date,
    actor: str,
    engine: str = "sql",
    snapshot_dir: Path | None = None,
) -> ExpiryResult:
    """Expire every record whose retention ended before ``as_of``; safe to repeat.

    ``engine`` "spark" searches the whole tables on Spark (``spark.retention``; a
    ``snapshot_dir`` keeps the Parquet snapshot it reads); the writes are the same, in
    the same one transaction."""
    if engine not in ("sql", "spark"):
        raise ValueError(f"unknown engine {engine!r}: sql or spark")
    with UnitOfWork(ctx.sessions) as unit:
        if engine == "spark":
            from bonafides.spark.session import job_session

            spark = job_session(ctx.settings.spark_driver_memory)
            from bonafides.spark.retention import expire as expire_on_spark

            result = expire_on_spark(
                spark,
                unit.session,
                ctx.settings.db,
                as_of=as_of,
                actor=actor,
                snapshot_dir=snapshot_dir,
            )
        else:
            result = expire_records(unit.session, as_of=as_of, actor=actor)
        unit.commit()
    return result


def audit_checkpoint(ctx: Context) -> Checkpoint:
    """Sign the chain's head now (unless a checkpoint of it exists) and return it."""
    with UnitOfWork(ctx.sessions) as unit:
        # Stamped like the chain's events, which the checkpoint is compared with.
        checkpoint, _ = checkpoint_now(unit.session, utcnow())
        unit.commit()
    return checkpoint
