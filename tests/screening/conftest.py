"""Store fixtures shared by the rule and screening tests."""

from tests.rules.fixtures import ctx, write

__all__ = ["ctx", "write"]
