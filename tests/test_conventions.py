"""docs/dev/conventions.md describes the tree as it is: every module it names exists, and
every top-level package of the tree is placed in its table of layers."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "dev" / "conventions.md"
PACKAGE = ROOT / "src" / "bonafides"

#: ``bonafides.x.y`` in backticks; a trailing ``.Name`` may be a class or function in it.
_DOTTED = re.compile(r"`(bonafides(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
#: Paths in backticks: ``src/bonafides/...``, ``tests/...``, ``scripts/...``, ``docs/...``.
_PATH = re.compile(r"`((?:src|tests|scripts|docs)/[^`<>*]+?)`")


def _text() -> str:
    return PAGE.read_text(encoding="utf-8")


def _exists(dotted: str) -> bool:
    """A module, or an attribute of the longest module prefix that is one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(module)
        except ModuleNotFoundError:  # a parent that is a module, not a package
            found = None
        if found is None:
            continue
        if cut == len(parts):
            return True
        target: object = importlib.import_module(module)
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def _named() -> list[str]:
    return sorted(set(_DOTTED.findall(_text())))


@pytest.mark.parametrize("dotted", _named())
def test_every_module_the_page_names_exists(dotted: str) -> None:
    assert _exists(dotted), f"docs/dev/conventions.md names {dotted}, which does not exist"


@pytest.mark.parametrize("path", sorted(set(_PATH.findall(_text()))))
def test_every_path_the_page_names_exists(path: str) -> None:
    target = path.replace("<area>.py", "")
    assert (ROOT / target).exists(), f"docs/dev/conventions.md names {path}"


def _top_level() -> list[str]:
    names = []
    for entry in sorted(PACKAGE.iterdir()):
        if entry.is_dir() and (entry / "__init__.py").exists():
            names.append(f"bonafides.{entry.name}")
        elif entry.suffix == ".py" and entry.name != "__init__.py":
            names.append(f"bonafides.{entry.stem}")
    return names


@pytest.mark.parametrize("module", _top_level())
def test_every_top_level_package_is_placed_in_a_layer(module: str) -> None:
    """On the page and in the import-linter contract both, so neither falls behind."""
    layers_row = [line for line in _text().splitlines() if line.startswith("| ")]
    assert any(f"`{module}`" in row for row in layers_row), f"{module} is in no layer row"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [layers] = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    listed = {name.strip() for layer in layers for name in re.split(r"[:|]", layer)}
    assert module in listed or any(name.startswith(f"{module}.") for name in listed), (
        f"{module} is in no layer of the import-linter contract"
    )


def test_the_page_names_what_it_promises() -> None:
    """A sanity floor: the check above must have something to check."""
    assert len(_named()) >= 30
    assert "bonafides.security.signing" in _named()
