"""What a newcomer checks before trusting the project: its licence, its pins, its imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_ONLY = {"pytest", "mypy", "playwright", "schemathesis", "hypothesis", "ruff", "babel"}


def _pins(lock: Path) -> dict[str, str]:
    """Each pinned distribution with the text of its entry (the pin and its hash lines)."""
    entries: dict[str, str] = {}
    current = ""
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^]]*\])?==", line)
        if match:
            current = match.group(1).lower().replace("_", "-")
            entries[current] = line
        elif current and line.startswith("    "):
            entries[current] += "\n" + line
    return entries


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_licence_the_readme_names_is_there() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0" in text
    assert "Apache-2.0" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_pin_carries_its_hash() -> None:
    for name in ("requirements.lock", "requirements-dev.lock"):
        pins = _pins(ROOT / name)
        assert pins, name
        unhashed = [dist for dist, entry in pins.items() if "--hash=sha256:" not in entry]
        assert unhashed == [], f"{name}: pinned without a hash: {unhashed}"
        assert "file://" not in (ROOT / name).read_text(encoding="utf-8")


def test_the_runtime_lock_holds_no_development_tool() -> None:
    runtime = set(_pins(ROOT / "requirements.lock"))
    assert runtime.isdisjoint(DEV_ONLY), runtime & DEV_ONLY
    assert set(_pins(ROOT / "requirements-dev.lock")) >= DEV_ONLY


def test_the_runtime_lock_pins_every_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = set(_pins(ROOT / "requirements.lock"))
    for requirement in project["dependencies"]:
        name = _normalise(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
        assert name in runtime, f"{requirement} is declared but not pinned"


def _imported_modules(tree: Path) -> set[str]:
    found: set[str] = set()
    for path in tree.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_every_third_party_import_of_the_package_is_declared() -> None:
    """A module the package imports must come from a distribution it declares, not one
    that happens to arrive with another (starlette with FastAPI, markupsafe with Jinja2)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # An extra other than dev serves a part of the package a host installs by choice (the
    # Spark engine); its modules are imported lazily and name the extra when missing.
    extras = [
        requirement
        for name, requirements in project["optional-dependencies"].items()
        if name != "dev"
        for requirement in requirements
    ]
    declared = {
        _normalise(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
        for requirement in [*project["dependencies"], *extras]
    }
    providers = packages_distributions()
    undeclared: dict[str, list[str]] = {}
    for module in sorted(_imported_modules(ROOT / "src" / "bonafides")):
        if module in sys.stdlib_module_names or module in {"bonafides", "__future__"}:
            continue
        dists = {_normalise(dist) for dist in providers.get(module, [])}
        if not dists & declared:
            undeclared[module] = sorted(dists)
    assert undeclared == {}, f"imported but not declared in pyproject.toml: {undeclared}"
