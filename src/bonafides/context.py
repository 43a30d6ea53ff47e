"""What every service needs, built once from settings: store, keys, catalogue and clock.

The CLI, the web app and the tests all build one of these, so there is a single
way to reach the database and the single vault that keys persons' ID numbers.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bonafides.catalogue import Catalogue, load_catalogue
from bonafides.security.anchor import Anchor, ChainKey
from bonafides.security.clock import Clock, SystemClock, office_day
from bonafides.security.identifiers import IdentifierVault
from bonafides.security.passwords import load_common_passwords
from bonafides.security.signing import file_key_store, keys_dir
from bonafides.settings import Settings
from bonafides.store.checkpoint import WalCheckpointer
from bonafides.store.db import checkpointer_for, make_engine, session_factory
from bonafides.store.subjects import SubjectKeys


@dataclass
class Context:
    settings: Settings
    engine: Engine = field(init=False)
    sessions: sessionmaker[Session] = field(init=False)
    checkpointer: WalCheckpointer | None = field(init=False, default=None)
    #: The one clock of the platform: every service asks it, never the system, so a
    #: test (or a replay) can pin the moment.
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.settings.db, pool_size=self.settings.db_pool_size)
        self.sessions = session_factory(self.engine, self.audit_anchor.info())
        self.checkpointer = checkpointer_for(self.engine)
        if self.checkpointer is not None:
            # A context dropped without close() must not leave its thread behind.
            weakref.finalize(self, self.checkpointer.release)

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        """Sessions for public reads that write nothing: each statement runs on its own,
        without BEGIN and ROLLBACK. On PostgreSQL those are two of the five round trips a
        public profile took. Statements may see different snapshots, so use these only
        where that cannot mislead, and never for writes or audited reads."""
        return session_factory(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), self.audit_anchor.info()
        )

    @cached_property
    def audit_anchor(self) -> Anchor:
        """The audit key and the checkpoint signer: kept outside the database it anchors."""
        settings = self.settings
        return Anchor(
            ChainKey(settings.secret_key.get_secret_value()),
            lambda: file_key_store(keys_dir(settings.data_dir).resolve()),
            every_events=settings.audit_checkpoint_events,
            every_minutes=settings.audit_checkpoint_minutes,
        )

    def today(self) -> dt.date:
        """The credit office's calendar day (``BONAFIDES_TIMEZONE``), not the server's:
        what "today" means for future dates, publication, lists and deadlines."""
        return office_day(self.clock, self.settings.timezone)

    @cached_property
    def vault(self) -> IdentifierVault:
        return IdentifierVault(self.settings.secret_key.get_secret_value())

    @cached_property
    def keys(self) -> SubjectKeys:
        return SubjectKeys(self.vault)

    @cached_property
    def common_passwords(self) -> frozenset[str]:
        """The passwords accounts may not use: packaged, plus the operator's file."""
        return load_common_passwords(self.settings.common_passwords_file)

    @cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue()

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()
