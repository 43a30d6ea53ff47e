"""Passwords: Argon2id hashes, a minimal policy, and constant work for unknown users.

Argon2id is memory-hard, so a stolen ``accounts`` table does not yield passwords at
GPU speed. Verifying against a fixed dummy hash when the user does not exist keeps the
response time from telling which user names are real.

The policy refuses the passwords attackers try first: those on the packaged list of the
20,000 most common ones (``common-passwords.txt.gz``, the list Django ships in
``django/contrib/auth``, compiled by Royce Williams from breach corpora, BSD-3-Clause
with Django), any an operator adds (``BONAFIDES_COMMON_PASSWORDS_FILE``), and those
made of the user name or e-mail address. Comparison ignores case and surrounding space.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256

#: RFC 9106's second recommended profile: 3 passes over 64 MiB, 4 lanes.
TIME_COST, MEMORY_KIB, PARALLELISM = 3, 64 * 1024, 4

_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """What a login for an unknown account is checked against, so that it costs what a
    known one costs. Made on first need, not at import: every command and worker imports
    this module, and one Argon2 hash is a quarter of a second of each one's start. A
    server makes it as it starts (api.app), so no request pays for it."""
    return _hasher.hash("bonafides-no-such-user-password")


class WeakPasswordError(ValueError):
    pass


@lru_cache(maxsize=1)
def packaged_common_passwords() -> frozenset[str]:
    data = files("bonafides.security").joinpath("common-passwords.txt.gz").read_bytes()
    return _entries(gzip.decompress(data).decode("utf-8"))


def _entries(text: str) -> frozenset[str]:
    return frozenset(
        line.strip().casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def load_common_passwords(extra: Path | None = None) -> frozenset[str]:
    """The packaged list, plus an operator's file (UTF-8, one password a line, ``#``
    comments) when given."""
    common = packaged_common_passwords()
    if extra is None:
        return common
    return common | _entries(extra.read_text(encoding="utf-8"))


def check_policy(
    password: str,
    *,
    username: str = "",
    email: str | None = None,
    common: frozenset[str] | None = None,
) -> None:
    """Length is what resists guessing; composition rules mostly produce ``Password1!``.

    Past the length, refuse what a guesser tries first: a common password (``common``,
    by default the packaged list), the user name, or the e-mail address or its local part.
    """
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"a password has at most {MAX_LENGTH} characters")
    folded = password.strip().casefold()
    if username and username.strip().casefold() in folded:
        raise WeakPasswordError("a password must not contain the user name")
    if email:
        address = email.strip().casefold()
        local = address.partition("@")[0]
        if address in folded or (len(local) >= 4 and local in folded):
            raise WeakPasswordError("a password must not contain the e-mail address")
    if folded in (packaged_common_passwords() if common is None else common):
        raise WeakPasswordError(
            "this password is among the most common ones that attackers try first; choose another"
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash costs the same time and fails."""
    try:
        return _hasher.verify(stored or dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """After the cost parameters are raised, old hashes are upgraded at the next login."""
    return _hasher.check_needs_rehash(stored)
