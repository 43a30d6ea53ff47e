"""The record-type catalogue as a machine-readable document (DESIGN §4, §10)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bonafides.catalogue import catalogue_document
from bonafides.http.deps import ContextDep
from bonafides.http.routes import Routes
from bonafides.rules.loader import rules_for

router = Routes(tags=["catalogue"])


class CatalogueDocument(BaseModel):
    """``bonafides.catalogue/1``: every field, department and record type with its schema."""

    format: str
    version: str
    digest: str = Field(description="sha256 of the canonical catalogue.")
    counts: dict[str, int]
    fields: list[dict[str, Any]]
    departments: list[dict[str, Any]]
    types: list[dict[str, Any]]


@router.get("/catalogue", response_model=CatalogueDocument)
def catalogue(ctx: ContextDep) -> dict[str, Any]:
    """The catalogue the platform validates against, with content schemas and periods, and
    for each type the lists it feeds (``lists``) or why it feeds none (``no_list``)."""
    return catalogue_document(ctx.catalogue, rules_for(ctx.catalogue).lists_by_type)
