"""What every schemathesis run checks, in process (tests/test_api_fuzz.py) and through the
shipped topology (tests/deploy/test_fuzz_topology.py)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

PROBLEM_JSON = "application/problem+json"


def problem_document(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error response is problem+json with `status` equal to the HTTP status."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.split(";")[0].strip() == PROBLEM_JSON, (
        f"{response.status_code} answered as {content_type!r}"
    )
    body = json.loads(response.content)
    assert body.get("status") == response.status_code, body
    assert isinstance(body.get("title"), str), body
    assert body["title"], body
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_document,
]


def cases(operation: Any, headers: dict[str, str], real: dict[str, list[str]]) -> Any:
    """Valid and invalid requests for `operation`, and valid ones on the real ids `real`
    (path parameter name -> ids that exist), so that handlers past the 404 are reached."""
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
    ]
    if real:
        strategies.append(
            st.fixed_dictionaries({k: st.sampled_from(v) for k, v in real.items()}).flatmap(
                lambda ids: operation.as_strategy(
                    GenerationMode.POSITIVE, headers=headers, path_parameters=ids
                )
            )
        )
    return st.one_of(strategies)
