"""Every API operation that takes JSON, fed any JSON value and any bytes as its body:
the answer is a documented client error or a success, never a server error (issue 19,
item 4). Bounded by ``BONAFIDES_FUZZ_EXAMPLES``."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as budget
from hypothesis import strategies as st

from bonafides.api.app import create_app
from bonafides.settings import Settings
from tests.api.test_stateful import _operator_key
from tests.fuzz.budget import EXAMPLES

_DOCUMENT = create_app(Settings(db="sqlite://", demo=True)).openapi()

#: (method, path) of every operation whose body is JSON, path parameters filled with 1.
JSON_OPERATIONS = sorted(
    (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
    for path, methods in _DOCUMENT["paths"].items()
    for method, operation in methods.items()
    if "application/json" in operation.get("requestBody", {}).get("content", {})
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

#: Bodies that are JSON only in name: deep nesting, a huge number, NUL, a lone surrogate
#: escape, bytes that are not UTF-8, nothing.
HOSTILE = [
    b"[" * 50_000,
    b'{"type": ' + b"9" * 5000 + b"}",
    b'{"type": "\\ud800", "rows": [{"\\u0000": "\\udfff"}]}',
    b"\xff\xfe{",
    b"",
    b"null",
    b'{"rows": ' + b"[{}," * 2000 + b"{}" + b"]" + b"}",
]


def _fields(document: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Objects with the right keys and wrong values, as well as any JSON at all."""
    names = set()
    for methods in document["paths"].values():
        for operation in methods.values():
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json")
            ref = (schema or {}).get("schema", {}).get("$ref", "")
            model = document.get("components", {}).get("schemas", {}).get(ref.split("/")[-1], {})
            names.update(model.get("properties", {}))
    return st.dictionaries(st.sampled_from(sorted(names)), JSON_VALUES, max_size=6) | JSON_VALUES


def test_any_json_body_is_never_a_server_error(client: TestClient, settings: Settings) -> None:
    token = _operator_key(settings)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    assert JSON_OPERATIONS, "the document lists JSON operations"

    for body in HOSTILE:
        for method, path in JSON_OPERATIONS:
            answer = client.request(method, path, content=body, headers=headers)
            assert answer.status_code < 500, (method, path, body[:40], answer.text[:300])

    @given(st.sampled_from(JSON_OPERATIONS), _fields(_DOCUMENT))
    @budget(
        max_examples=EXAMPLES * 2,
        deadline=None,
        derandomize=EXAMPLES <= 40,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(operation: tuple[str, str], body: Any) -> None:
        method, path = operation
        content = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
        answer = client.request(method, path, content=content, headers=headers)
        assert answer.status_code < 500, (method, path, body, answer.text[:300])

    check()
