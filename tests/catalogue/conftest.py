"""Fixtures for the catalogue tests: the packaged catalogue and an editable copy of its data."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from bonafides.catalogue import Catalogue, load_catalogue

from .yamlfiles import read_yaml, write_yaml


def packaged_data_dir() -> Path:
    data = resources.files("bonafides.catalogue").joinpath("data")
    assert isinstance(data, Path), "the package is expected on the file system in tests"
    return data


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged catalogue directory."""
    target = tmp_path / "catalogue"
    shutil.copytree(packaged_data_dir(), target)
    return target


@pytest.fixture
def edit_yaml() -> Callable[[Path, Callable[[Any], None]], None]:
    """Load a YAML file, let the test change it in place, write it back."""

    def edit(path: Path, change: Callable[[Any], None]) -> None:
        data = read_yaml(path)
        change(data)
        write_yaml(path, data)

    return edit
