"""What every service needs, built once from settings: store, keys and catalogue.

The CLI, the web app and the tests all build one of these, so there is a single
way to reach the database and the single vault that keys persons' ID numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bonafides.catalogue import Catalogue, load_catalogue
from bonafides.security.identifiers import IdentifierVault
from bonafides.settings import Settings
from bonafides.store.db import make_engine, session_factory
from bonafides.store.subjects import SubjectKeys


@dataclass
class Context:
    settings: Settings
    engine: Engine = field(init=False)
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.settings.db)
        self.sessions = session_factory(self.engine)

    @cached_property
    def vault(self) -> IdentifierVault:
        return IdentifierVault(self.settings.secret_key.get_secret_value())

    @cached_property
    def keys(self) -> SubjectKeys:
        return SubjectKeys(self.vault)

    @cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue()

    def close(self) -> None:
        self.engine.dispose()
