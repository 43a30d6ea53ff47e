"""The rate limits of signing in and registering: one definition for the portal and the API.

Two buckets guard a login, chosen so that an attacker cannot lock a chosen account:

- per client address, every attempt whatever the account: one address spraying many
  accounts, or guessing one, is held to ``login_rate_per_minute``;
- per account, failed attempts only, from every address together, at a larger rate
  (``login_account_rate_per_minute``): it takes several addresses to empty it, and when
  they do, a guess waits the few seconds until the next token (a slow-down, not a
  lock-out). An address that has signed in to the account before is not held by it, so
  the owner's usual device gets in at once even during such an attack.

An attacker on one address therefore spends only that address's bucket; the owner
signing in from another address is not refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from bonafides.security.ratelimit import Decision, Rate, RateLimiter
from bonafides.settings import Settings


@dataclass(frozen=True)
class LoginLimits:
    per_address: Rate
    per_account: Rate

    @classmethod
    def of(cls, settings: Settings) -> LoginLimits:
        return cls(
            per_address=Rate(settings.login_rate_per_minute),
            per_account=Rate(settings.login_account_rate_per_minute),
        )


def account_name(username: str) -> str:
    """The bucket key of a user name, as the accounts table compares it."""
    return username.strip().lower()[:64]


def address_bucket(address: str) -> str:
    return f"login:ip:{address}"


def account_bucket(username: str) -> str:
    return f"login:user:{account_name(username)}"


def registration_bucket(address: str) -> str:
    return f"register:ip:{address}"


def registration_rate(settings: Settings) -> Rate:
    """Self-registration per address, at the login rate: each one costs an Argon2 hash."""
    return Rate(settings.login_rate_per_minute)


def before_login(
    limiter: RateLimiter, limits: LoginLimits, *, username: str, address: str
) -> tuple[Decision, Decision]:
    """Count one attempt from ``address``; look (without taking) at the account's bucket.

    Returns the address's decision and the account's; the caller refuses when the first
    is refused, and when the second is unless the address is known to the account.
    """
    by_address = limiter.hit(address_bucket(address), limits.per_address)
    by_account = limiter.hit(account_bucket(username), limits.per_account, cost=0)
    return by_address, by_account


def after_failure(limiter: RateLimiter, limits: LoginLimits, *, username: str) -> None:
    """A wrong password spends one token of the account's bucket."""
    limiter.hit(account_bucket(username), limits.per_account)
