"""The portal's tests use the API's app fixtures: one app, one store per test."""

from __future__ import annotations

from tests.api.conftest import client, settings, store

__all__ = ["client", "settings", "store"]
