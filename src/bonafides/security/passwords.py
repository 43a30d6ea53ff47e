"""Passwords: Argon2id hashes, a minimal policy, and constant work for unknown users.

Argon2id is memory-hard, so a stolen ``accounts`` table does not yield passwords at
GPU speed. Verifying against a fixed dummy hash when the user does not exist keeps the
response time from telling which user names are real.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256

#: RFC 9106's second recommended profile: 3 passes over 64 MiB, 4 lanes.
TIME_COST, MEMORY_KIB, PARALLELISM = 3, 64 * 1024, 4

_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)
_DUMMY = _hasher.hash("bonafides-no-such-user-password")


class WeakPasswordError(ValueError):
    pass


def check_policy(password: str, *, username: str = "") -> None:
    """Length is what resists guessing; composition rules mostly produce ``Password1!``."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"a password has at most {MAX_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise WeakPasswordError("a password must not contain the user name")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash costs the same time and fails."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """After the cost parameters are raised, old hashes are upgraded at the next login."""
    return _hasher.check_needs_rehash(stored)
