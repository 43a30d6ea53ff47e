"""The API as sequences of calls (schemathesis' stateful mode): links inferred from the
OpenAPI document carry what one operation returns (a certificate id, a list code, a
subject code) into the next, so reads are made of things that exist. No answer may be a
server error or differ from the document. Bounded by ``BONAFIDES_FUZZ_EXAMPLES``."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as budget
from schemathesis import Case
from schemathesis.openapi import from_asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bonafides.context import Context
from bonafides.security import apikeys
from bonafides.security.accounts import create_account, principal_of
from bonafides.security.roles import Role
from bonafides.settings import Settings
from tests.fuzz.budget import EXAMPLES


def _operator_key(settings: Settings) -> str:
    """An operator's API key with every scope the role has: the calls reach the accounts,
    registrations, inquiries and workflows, not only the public reads."""
    ctx = Context(settings)
    try:
        with ctx.sessions.begin() as session:
            account = create_account(
                session,
                ctx.catalogue,
                ctx.keys,
                ctx.clock,
                username="fuzz.operator",
                role=Role.OPERATOR,
                display_name="Fuzz Operator",
                password=None,
                actor="test",
            )
            scopes = tuple(sorted(principal_of(account, via="key").scopes))
            return apikeys.issue_key(
                session, ctx.clock, account, name="fuzz", scopes=scopes, actor="test"
            ).token
    finally:
        ctx.close()


def test_call_sequences_following_the_links(client: TestClient, settings: Settings) -> None:
    schema = from_asgi("/api/v1/openapi.json", client.app)
    machine = schema.as_state_machine()
    token = _operator_key(settings)

    class Sequences(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def validate_response(
            self, response: Any, case: Case[Any], additional_checks: Any = None, **kwargs: Any
        ) -> None:
            # Well-formed yet unusable input (a wrong check digit) is a 422 by design.
            case.validate_response(
                response, excluded_checks=[positive_data_acceptance], transport_kwargs=kwargs
            )

    Sequences.run(
        settings=budget(
            max_examples=max(5, EXAMPLES // 4),
            stateful_step_count=6,
            deadline=None,
            derandomize=EXAMPLES <= 40,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
