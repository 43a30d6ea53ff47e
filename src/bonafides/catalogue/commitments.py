"""Credit commitment templates: what a subject signs when it applies for a licence, per
licence type, as data (``data/commitments.yaml``) a reviewer can read without code.

Each template names the department that grants the licence (and so records whether the
commitment was kept), its legal basis, its term, and the text in Chinese and English.
Loaded and checked against the catalogue once: a template naming an unknown department
stops the load, as a bad record type does.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bonafides.catalogue.loader import CatalogueError
from bonafides.catalogue.models import Catalogue

FILE = "commitments.yaml"
#: The record type a breach becomes.
BREACH_TYPE = "general.commitment_breach"


class CommitmentTemplate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    licence_zh: str = Field(min_length=2)
    licence_en: str = Field(min_length=2)
    department: str
    term_months: int = Field(ge=1, le=60)
    legal_basis: tuple[str, ...] = Field(min_length=1)
    text_zh: str = Field(min_length=20)
    text_en: str = Field(min_length=20)

    @property
    def text(self) -> str:
        """What is signed: the Chinese text, which is the binding one, and the legal basis."""
        return f"{self.text_zh}\n依据：{'；'.join(self.legal_basis)}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    templates: tuple[CommitmentTemplate, ...] = Field(min_length=1)


@functools.cache
def _templates() -> tuple[CommitmentTemplate, ...]:
    text = resources.files("bonafides.catalogue").joinpath("data", FILE).read_text("utf-8")
    return _File.model_validate(yaml.safe_load(text)).templates


def commitment_templates(catalogue: Catalogue) -> dict[str, CommitmentTemplate]:
    """The templates by licence type, each checked against ``catalogue``."""
    known = {d.code for d in catalogue.departments}
    found: dict[str, CommitmentTemplate] = {}
    for template in _templates():
        if template.department not in known:
            raise CatalogueError(FILE, template.code, f"unknown department {template.department!r}")
        if template.code in found:
            raise CatalogueError(FILE, template.code, "defined twice")
        found[template.code] = template
    if not catalogue.has_type(BREACH_TYPE):
        raise CatalogueError(FILE, "", f"the templates need the record type {BREACH_TYPE}")
    return found
