"""Roles, scopes and the principal a request acts as; what each may see and do.

One table says which scopes a role can ever hold; an API key holds a subset of its
account's. Disclosure builds on ``bonafides.disclosure``: a role picks the audience, and
the audience decides by disclosure class, so the public API, reports and these routes
answer the same question the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from bonafides.catalogue import Catalogue
from bonafides.disclosure import Audience, class_visible, retained, visible
from bonafides.rules.model import Rules


class Role(StrEnum):
    OPERATOR = "operator"  # the credit office
    OFFICER = "officer"  # a department's data provider: submits and answers for it
    INQUIRER = "inquirer"  # a department that looks up and screens subjects
    SUBJECT = "subject"  # a company or person, bound to its code by an operator
    PUBLIC = "public"  # nobody signed in


class Scope(StrEnum):
    FILES_READ = "files:read"  # non-public files, with a purpose, logged
    RECORDS_SUBMIT = "records:submit"  # submit and amend the department's records
    REGISTER_LOAD = "register:load"  # load the department's register of subjects
    WORKFLOWS_ANSWER = "workflows:answer"  # answer objections, repairs and complaints
    SCREEN = "screen"  # screen subjects for the department's actions
    INQUIRIES_APPLY = "inquiries:apply"  # apply for a special inquiry
    OWN_FILE = "own:file"  # a subject's own file, access log and notifications
    OWN_WORKFLOWS = "own:workflows"  # a subject's objections, repairs and commitments
    ADMIN = "admin"  # accounts, keys, inquiry decisions, escalations


#: The scopes a role can hold; a session has all of them, an API key those it was given.
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.OPERATOR: frozenset({Scope.ADMIN, Scope.FILES_READ}),
    Role.OFFICER: frozenset(
        {
            Scope.RECORDS_SUBMIT,
            Scope.REGISTER_LOAD,
            Scope.WORKFLOWS_ANSWER,
            Scope.FILES_READ,
            Scope.INQUIRIES_APPLY,
        }
    ),
    Role.INQUIRER: frozenset({Scope.SCREEN, Scope.FILES_READ, Scope.INQUIRIES_APPLY}),
    Role.SUBJECT: frozenset({Scope.OWN_FILE, Scope.OWN_WORKFLOWS}),
    Role.PUBLIC: frozenset(),
}

#: Roles that belong to a department and must name it.
DEPARTMENT_ROLES = frozenset({Role.OFFICER, Role.INQUIRER})


@dataclass(frozen=True)
class Principal:
    """Who a request acts as, however it authenticated (session cookie, API key, nobody)."""

    role: Role
    account_id: int | None = None
    username: str | None = None
    department: str | None = None
    subject_key: str | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    via: str = "anonymous"  # "session", "key", "cli" (an operator at the shell) or "anonymous"
    key_id: str | None = None
    csrf_token: str | None = None

    @property
    def actor(self) -> str:
        """How the audit chain names this principal."""
        if self.via == "key" and self.key_id:
            return f"key:{self.key_id}:{self.username}"[:64]
        if self.via == "cli" and self.username:
            return f"cli:{self.username}"[:64]
        if self.username:
            return f"user:{self.username}"[:64]
        return "public"

    @property
    def bound_subject(self) -> str | None:
        """The subject key of a verified subject account, else None."""
        return self.subject_key if self.role is Role.SUBJECT else None

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes


ANONYMOUS = Principal(role=Role.PUBLIC)


def audience_for(
    principal: Principal, *, subject_key: str, special_inquiry: bool = False
) -> Audience:
    """The audience a principal reads one subject's file as.

    A subject is its own audience only for its own file; an authority reads shared
    records, and restricted ones only under an approved special inquiry for that subject.
    """
    if principal.role is Role.OPERATOR:
        return Audience.OPERATOR
    if principal.role is Role.SUBJECT:
        return Audience.SUBJECT if principal.bound_subject == subject_key else Audience.PUBLIC
    if principal.role in DEPARTMENT_ROLES and principal.has(Scope.FILES_READ):
        return Audience.RESTRICTED if special_inquiry else Audience.AUTHORITY
    return Audience.PUBLIC


def own_department(catalogue: Catalogue, department: str | None, source: str) -> bool:
    """Whether ``department`` made the decision, itself or through a department under it."""
    if department is None:
        return False
    try:
        return any(d.code == department for d in catalogue.lineage(source))
    except KeyError:
        return False


def record_visible(
    catalogue: Catalogue,
    principal: Principal,
    audience: Audience,
    *,
    source: str,
    disclosure: str,
    status: str,
    published_until: dt.date | None,
    adult_from: dt.date | None,
    decision_date: dt.date,
    today: dt.date,
    retention_until: dt.date | None = None,
) -> bool:
    """The disclosure rule, plus: the source department sees the decisions it made.

    A subject-only record is "for the subject and the source department" (catalogue), so
    an officer of the deciding department reads it whatever its class, while it is kept:
    past retention the department sees it no more than anyone else but the subject.
    """
    if (
        principal.role in DEPARTMENT_ROLES
        and retained(retention_until, today)
        and audience is not Audience.PUBLIC
        and own_department(catalogue, principal.department, source)
    ):
        return True
    return visible(
        audience,
        disclosure=disclosure,
        status=status,
        published_until=published_until,
        adult_from=adult_from,
        decision_date=decision_date,
        today=today,
        retention_until=retention_until,
    )


def field_visible(audience: Audience, field_disclosure: str | None) -> bool:
    """A content field stricter than its record (an ID number) needs the stricter audience."""
    return field_disclosure is None or class_visible(audience, field_disclosure)


def department_actions(rules: Rules, catalogue: Catalogue, department: str) -> frozenset[str]:
    """The actions a department performs: those of measures it, or a department above it,
    implements. An inquirer screens for these and no others (principle 3)."""
    try:
        lineage = {d.code for d in catalogue.lineage(department)}
    except KeyError:
        return frozenset()
    return frozenset(
        action
        for _memo, measure in rules.measures.values()
        if measure.department in lineage
        for action in measure.actions
    )


def may_screen(principal: Principal, action: str, rules: Rules, catalogue: Catalogue) -> bool:
    """Whether ``principal`` may screen subjects for ``action``.

    Operators may screen for any action; an inquirer only for its department's actions.
    """
    if principal.role is Role.OPERATOR:
        return action in rules.actions
    if principal.role is not Role.INQUIRER or principal.department is None:
        return False
    if not principal.has(Scope.SCREEN):
        return False
    return action in department_actions(rules, catalogue, principal.department)


def parse_scopes(role: Role, names: Iterable[str]) -> frozenset[Scope]:
    """Scopes for a key of an account of ``role``; none beyond the role's, none unknown."""
    chosen: set[Scope] = set()
    for name in names:
        try:
            scope = Scope(name)
        except ValueError:
            known = ", ".join(sorted(s.value for s in ROLE_SCOPES[role]))
            raise ValueError(f"unknown scope {name!r}; a {role.value} may hold: {known}") from None
        if scope not in ROLE_SCOPES[role]:
            raise ValueError(f"a {role.value} account cannot hold the scope {scope.value!r}")
        chosen.add(scope)
    if not chosen:
        raise ValueError("a key needs at least one scope")
    return frozenset(chosen)
