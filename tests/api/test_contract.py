"""The API against its own OpenAPI document, with generated requests (schemathesis).

Every operation gets valid and invalid requests on both stores; every answer must
be documented, match its schema, and never be a server error. Example counts are
bounded so that the suite stays fast.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi import from_asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bonafides.api.app import create_app
from bonafides.settings import Settings
from tests.api.conftest import SAMR_KEY

_DOCUMENT = create_app(Settings(db="sqlite://", demo=True)).openapi()

#: Every operation the API documents, read from the document itself.
OPERATIONS = sorted(
    (path, method.upper()) for path, methods in _DOCUMENT["paths"].items() for method in methods
)


def _checked_beyond_schema(path: str, method: str) -> bool:
    """Input that can be well-formed yet unusable: a code with a wrong check digit, a
    batch of an unknown record type, a file that is not what it says. Such operations
    answer 422 by design, so "schema-valid input is accepted" cannot hold for them; every
    other check still does. They are the ones taking a body or a code in their path."""
    operation = _DOCUMENT["paths"][path][method.lower()]
    return "requestBody" in operation or "{code}" in path


#: Schemathesis's statuses for refused invalid data, and 413: a generated body over the
#: body limit is refused before it is read, as the contract documents.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    *("400", "401", "403", "404", "405", "406", "409", "413", "415", "422"),
                    *("428", "429", "5xx"),
                ]
            }
        }
    }
)


def _cases() -> list[tuple[str, str, GenerationMode]]:
    """Positive cases for all; negative ones where there is an input to get wrong."""
    cases = []
    for path, method in OPERATIONS:
        cases.append((path, method, GenerationMode.POSITIVE))
        operation = _DOCUMENT["paths"][path][method.lower()]
        if operation.get("parameters") or operation.get("requestBody"):
            cases.append((path, method, GenerationMode.NEGATIVE))
    return cases


@pytest.mark.parametrize(("path", "method", "mode"), _cases())
def test_api_honours_its_contract(
    client: TestClient, path: str, method: str, mode: GenerationMode
) -> None:
    # ``client`` has run the app's lifespan, so the store is open for the generated calls.
    # The document is the one made at import (test_the_document_is_each_apps_own): making
    # it again for every case took more of this module's time than its requests.
    cast(FastAPI, client.app).openapi_schema = _DOCUMENT
    operation = from_asgi("/api/v1/openapi.json", client.app, config=CONFIG)[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=10,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(case: Case[Any]) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {SAMR_KEY}"},
            excluded_checks=(
                [positive_data_acceptance] if _checked_beyond_schema(path, method) else []
            ),
        )

    check()


def test_the_document_is_each_apps_own(client: TestClient) -> None:
    assert cast(FastAPI, client.app).openapi() == _DOCUMENT


def test_every_operation_is_covered() -> None:
    assert {
        ("/api/v1/health", "GET"),
        ("/api/v1/search", "GET"),
        ("/api/v1/subjects/{code}", "GET"),
        ("/api/v1/subjects/{code}/records", "GET"),
        ("/api/v1/catalogue", "GET"),
        ("/api/v1/statistics", "GET"),
        ("/api/v1/submissions", "POST"),
        ("/api/v1/submissions/file", "POST"),
        ("/api/v1/lists", "GET"),
        ("/api/v1/lists/{code}/entries", "GET"),
        ("/api/v1/lists/{code}/entries.csv", "GET"),
        ("/api/v1/measures", "GET"),
        ("/api/v1/checks", "POST"),
        ("/api/v1/checks/batch", "POST"),
        ("/api/v1/checks/{cert_id}", "GET"),
        ("/api/v1/subjects/{code}/lists", "GET"),
        ("/api/v1/subjects/{code}/grades", "GET"),
    } <= set(OPERATIONS)
    assert not _checked_beyond_schema("/api/v1/search", "GET")
