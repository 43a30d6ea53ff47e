"""Fixtures of the shared test world (see tests/security/world.py)."""

from tests.security.world import cheap_passwords, ctx, settings, world

__all__ = ["cheap_passwords", "ctx", "settings", "world"]
