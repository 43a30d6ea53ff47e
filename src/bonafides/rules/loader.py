"""Reading the rule set shipped with the package (or an operator's own directory).

Every ``*.yaml`` file of the directory contributes actions, lists, memoranda or grades;
they are merged, validated, and bound to the catalogue, so a rule that names an unknown
record type, field, department or action stops the load with the reason.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bonafides.catalogue import Catalogue, load_catalogue
from bonafides.rules.model import Rules, RuleSetError, rule_documents


def _read(root: Traversable | Path) -> dict[str, Any]:
    documents: dict[str, Any] = {}
    for item in sorted(root.iterdir(), key=lambda t: t.name):
        if item.name.endswith(".yaml"):
            try:
                documents[item.name] = yaml.safe_load(item.read_text("utf-8"))
            except yaml.YAMLError as exc:
                raise RuleSetError(f"{item.name}: not valid YAML: {exc}") from None
    if not documents:
        raise RuleSetError(f"no rule files (*.yaml) in {root}")
    return documents


def load_rules(
    catalogue: Catalogue | None = None, directory: Traversable | Path | None = None
) -> Rules:
    """The rule set of ``directory`` (default: the packaged one), bound to ``catalogue``."""
    cat = catalogue if catalogue is not None else load_catalogue()
    root = directory if directory is not None else resources.files("bonafides.rules") / "data"
    try:
        ruleset = rule_documents(_read(root))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RuleSetError(f"{where}: {first['msg']}") from None
    return Rules(ruleset, cat)


@functools.cache
def packaged_rules() -> Rules:
    return load_rules()


def rules_for(catalogue: Catalogue) -> Rules:
    """The packaged rules bound to a catalogue; the packaged catalogue shares one copy."""
    if catalogue is load_catalogue():
        return packaged_rules()
    return load_rules(catalogue)
