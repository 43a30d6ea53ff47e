"""Accounts: creating them, binding a subject account to its code, signing in.

Services work inside the caller's transaction and append an audit event for every
change, so the CLI and the API share one code path and one trail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.codes import CodeError, ResidentId, parse_subject_code
from bonafides.meaningful import requirement, says_enough
from bonafides.security import audit
from bonafides.security.clock import Clock
from bonafides.security.passwords import (
    check_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from bonafides.security.roles import DEPARTMENT_ROLES, ROLE_SCOPES, Principal, Role, Scope
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import Account, Subject

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")
#: What the operator's evidence for a binding, or reason for a refusal, must at least say.
MIN_REASON = 5


class AccountError(ValueError):
    """The request cannot be carried out as given; the message says why."""


class UnknownAccountError(LookupError):
    pass


@dataclass(frozen=True)
class SubjectClaim:
    """A subject code as the account stores it: the lookup key and the masked display."""

    key: str
    display: str


def claim_of(keys: SubjectKeys, code: str) -> SubjectClaim:
    try:
        parsed = parse_subject_code(code)
    except CodeError as exc:
        raise AccountError(f"invalid code: {exc.reason}") from None
    display = parsed.masked if isinstance(parsed, ResidentId) else parsed.code
    return SubjectClaim(keys.key_for_code(code), display)


def get_account(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise UnknownAccountError(f"no account {username!r}")
    return account


def create_account(
    session: Session,
    catalogue: Catalogue,
    keys: SubjectKeys,
    clock: Clock,
    *,
    username: str,
    role: Role,
    display_name: str,
    password: str | None,
    actor: str,
    department: str | None = None,
    email: str | None = None,
    subject_code: str | None = None,
    common_passwords: frozenset[str] | None = None,
) -> Account:
    """A new account; a subject account records the code it claims, not yet bound.

    A machine-only account (for API keys) may have no password: nobody can sign in as it.
    ``common_passwords`` is the list to refuse (``Context.common_passwords``); by default
    the packaged one.
    """
    if role is Role.PUBLIC:
        raise AccountError("the public needs no account")
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise AccountError(
            "a user name is 3 to 64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if session.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise AccountError(f"the user name {username!r} is taken")
    if role in DEPARTMENT_ROLES:
        if not department:
            raise AccountError(f"a {role.value} account belongs to a department: name it")
        try:
            catalogue.department(department)
        except KeyError:
            raise AccountError(f"unknown department {department!r}") from None
    elif department:
        raise AccountError(f"a {role.value} account belongs to no department")
    claim = None
    if subject_code:
        if role is not Role.SUBJECT:
            raise AccountError("only a subject account claims a subject code")
        claim = claim_of(keys, subject_code)
    if email is not None and not EMAIL.fullmatch(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    if password is not None:
        check_policy(password, username=username, email=email, common=common_passwords)
    account = Account(
        username=username,
        display_name=display_name.strip()[:200] or username,
        email=email,
        role=role.value,
        department=department if role in DEPARTMENT_ROLES else None,
        subject_key=claim.key if claim else None,
        subject_display=claim.display if claim else None,
        password_hash=hash_password(password) if password is not None else None,
        active=True,
        created_at=clock.now(),
        created_by=actor,
    )
    session.add(account)
    session.flush()
    audit.append(
        session,
        actor=actor,
        tag="accounts:account:created",
        object_ref=f"account {account.id}",
        detail={"username": username, "role": role.value, "department": account.department},
    )
    return account


def bind_subject(
    session: Session,
    keys: SubjectKeys,
    clock: Clock,
    *,
    username: str,
    code: str,
    evidence: str,
    actor: str,
) -> Account:
    """Bind a subject account to a code after the operator has verified the claimant.

    ``evidence`` says how (e.g. "business licence and legal representative's ID seen at
    the counter"); it goes into the audit chain. A code different from the one claimed
    is refused: the operator verified the claim, not some other subject.
    """
    account = get_account(session, username)
    if account.role != Role.SUBJECT:
        raise AccountError(f"{username!r} is a {account.role} account, not a subject account")
    if not says_enough(evidence, MIN_REASON):
        raise AccountError(
            "say how the claimant's identity was verified (evidence): " + requirement(MIN_REASON)
        )
    claim = claim_of(keys, code)
    if account.subject_key is not None and account.subject_key != claim.key:
        raise AccountError("the code differs from the one the account claims")
    account.subject_key = claim.key
    account.subject_display = claim.display
    account.bound_at = clock.now()
    account.bound_by = actor
    subject_id = session.scalar(select(Subject.id).where(Subject.key == claim.key))
    audit.append(
        session,
        actor=actor,
        tag="accounts:account:bound",
        subject_id=subject_id,
        object_ref=f"account {account.id}",
        detail={"username": account.username, "code": claim.display, "evidence": evidence},
    )
    return account


def set_active(session: Session, *, username: str, active: bool, actor: str) -> Account:
    account = get_account(session, username)
    account.active = active
    audit.append(
        session,
        actor=actor,
        tag="accounts:account:" + ("activated" if active else "deactivated"),
        object_ref=f"account {account.id}",
        detail={"username": account.username},
    )
    return account


def set_password(
    session: Session,
    *,
    username: str,
    password: str,
    actor: str,
    common_passwords: frozenset[str] | None = None,
) -> Account:
    account = get_account(session, username)
    check_policy(password, username=account.username, email=account.email, common=common_passwords)
    account.password_hash = hash_password(password)
    audit.append(
        session,
        actor=actor,
        tag="accounts:password:set",
        object_ref=f"account {account.id}",
        detail={"username": account.username},
    )
    return account


def authenticate(session: Session, username: str, password: str) -> Account | None:
    """The account if the password is right and the account active; None otherwise.

    Unknown users cost one Argon2 verification too, so timing does not reveal them.
    """
    account = session.scalar(select(Account).where(Account.username == username.strip().lower()))
    ok = verify_password(account.password_hash if account else None, password)
    if account is None or not ok or not account.active:
        return None
    assert account.password_hash is not None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return account


def principal_of(
    account: Account,
    *,
    via: str,
    scopes: frozenset[Scope] | None = None,
    key_id: str | None = None,
    csrf_token: str | None = None,
) -> Principal:
    """The principal an account acts as; an unbound subject account sees no file."""
    role = Role(account.role)
    return Principal(
        role=role,
        account_id=account.id,
        username=account.username,
        department=account.department,
        subject_key=account.subject_key if account.bound_at is not None else None,
        scopes=ROLE_SCOPES[role] if scopes is None else scopes & ROLE_SCOPES[role],
        via=via,
        key_id=key_id,
        csrf_token=csrf_token,
    )


#: The audit actor of a self-registration: nobody is signed in yet, the claimant names itself.
SELF_REGISTERED = "self-registration"


def register(
    session: Session,
    catalogue: Catalogue,
    keys: SubjectKeys,
    clock: Clock,
    *,
    username: str,
    display_name: str,
    password: str,
    code: str,
    email: str | None = None,
    common_passwords: frozenset[str] | None = None,
) -> Account:
    """A company or person opens its own subject account, claiming a code.

    The account can sign in at once but sees no file: an operator binds it
    (``bind_subject``) only after checking the claimant's identity, so claiming a code
    proves nothing by itself.
    """
    if not code.strip():
        raise AccountError("name the code (USCC or resident ID) the account is for")
    return create_account(
        session,
        catalogue,
        keys,
        clock,
        username=username,
        role=Role.SUBJECT,
        display_name=display_name,
        password=password,
        actor=SELF_REGISTERED,
        email=email or None,
        subject_code=code.strip().upper(),
        common_passwords=common_passwords,
    )


def pending_registrations(session: Session, *, limit: int = 500) -> list[Account]:
    """Active subject accounts that claim a code no operator has verified yet, oldest first."""
    return list(
        session.scalars(
            select(Account)
            .where(
                Account.role == Role.SUBJECT.value,
                Account.subject_key.is_not(None),
                Account.bound_at.is_(None),
                Account.active.is_(True),
            )
            .order_by(Account.created_at, Account.id)
            .limit(limit)
        )
    )


def refuse_registration(session: Session, *, username: str, reason: str, actor: str) -> Account:
    """Close a claim the operator could not verify: the account is deactivated, with why."""
    account = get_account(session, username)
    if account.role != Role.SUBJECT or account.bound_at is not None or not account.active:
        raise AccountError(f"{username!r} is not a pending registration")
    if not says_enough(reason, MIN_REASON):
        raise AccountError("say why the claim is refused: " + requirement(MIN_REASON))
    account.active = False
    audit.append(
        session,
        actor=actor,
        tag="accounts:registration:refused",
        object_ref=f"account {account.id}",
        detail={"username": account.username, "reason": reason.strip()[:300]},
    )
    return account
