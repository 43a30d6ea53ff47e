"""Reference data every storage test needs: the packaged catalogue and departments."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bonafides.catalogue import load_catalogue
from bonafides.store.reference import sync_catalogue


def seed_reference_data(session: Session) -> None:
    sync_catalogue(session, load_catalogue())
