"""Loading the catalogue and departments into the store, idempotently.

The YAML catalogue is the source of truth; the tables are its copy so that records
can hold foreign keys to types and departments and SQL jobs can join on them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.catalogue.render import catalogue_document
from bonafides.security import audit
from bonafides.store.feed import fill_public_payloads
from bonafides.store.tables import CatalogueVersion, Department, RecordType


def sync_catalogue(session: Session, catalogue: Catalogue, *, actor: str = "system") -> bool:
    """Bring the store in line with ``catalogue``; returns False when it already was."""
    known = session.get(CatalogueVersion, catalogue.version)
    if known is not None and known.digest == catalogue.digest:
        return False
    document = catalogue_document(catalogue)
    if known is None:
        session.add(
            CatalogueVersion(version=catalogue.version, digest=catalogue.digest, document=document)
        )
    else:
        known.digest = catalogue.digest
        known.document = document
    departments = {d.code: d for d in session.scalars(select(Department))}
    for dept in catalogue.departments:
        row = departments.get(dept.code) or Department(code=dept.code)
        row.name_zh = dept.name_zh
        row.name_en = dept.name_en
        row.level = str(dept.level)
        row.region = dept.region
        row.uscc = dept.uscc
        session.add(row)
    types = {t.code: t for t in session.scalars(select(RecordType))}
    for rtype in catalogue.types:
        trow = types.get(rtype.code) or RecordType(code=rtype.code)
        trow.field = rtype.field
        trow.title_zh = rtype.title_zh
        trow.title_en = rtype.title_en
        trow.polarity = str(rtype.polarity)
        trow.disclosure = str(rtype.disclosure)
        trow.catalogue_version = catalogue.version
        trow.definition = rtype.model_dump(mode="json")
        session.add(trow)
    session.flush()
    # The public feed's payloads were cut to the public fields of the catalogue then.
    fill_public_payloads(session.connection(), after=0)
    audit.append(
        session,
        actor=actor,
        tag="catalogue:version:loaded",
        object_ref=f"catalogue {catalogue.version}",
        detail={"digest": catalogue.digest, "types": len(catalogue.types)},
    )
    return True
