"""Property: whatever is done to a sample (fields removed, replaced by any JSON, added,
list items doubled), the answer is a receipt or a 4xx problem document whose errors point
into the payload that was sent, never a 500; a refused payload stores nothing."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter_support import ADAPTERS, PROBLEM_JSON, REFERENCE_FIELD, post_native, sample

# Values that are nearly right, or right at an edge: where conversions break.
EDGES = [
    "",
    " ",
    "oui",
    "non",
    "Y",
    "N",
    "U",
    "YES",
    "NO",
    "2026-11-20",
    "18:30",
    "18h30",
    "0001-01-01",
    "9999-12-31",
    "01/01/0001",
    "31/12/9999",
    "2026-03-29",
    "02:30",
    "24:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-11-18T08:15:00",
    "9" * 30,
    "-1",
    "1e400",
    "NaN",
    "\u2019",
    "ÉÀ",
    "AF",
    "0",
    "10000",
]
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(EDGES)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, parts: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location in a JSON document, the document itself excepted."""
    found = [parts] if parts else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.extend(_paths(inner, (*parts, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(_paths(inner, (*parts, index)))
    return found


SERIAL = itertools.count()


@st.composite
def mutated(draw: Any, name: str) -> dict[str, Any]:
    body = sample(name)
    body[REFERENCE_FIELD[name]] += f"-{next(SERIAL)}"  # a valid mutant is stored, not a 409
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(body)
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        target = body
        for part in parents:
            target = target[part]
        action = draw(st.sampled_from(["replace", "delete", "add", "double"]))
        if action == "replace":
            target[last] = draw(JSON_VALUES)
        elif action == "delete":
            del target[last]
        elif action == "add" and isinstance(target, dict):
            target[draw(st.text(min_size=1, max_size=12))] = draw(JSON_VALUES)
        elif action == "double" and isinstance(target, list):
            target.append(copy.deepcopy(target[last]))
    return body


def _resolves(document: Any, pointer: str) -> bool:
    """Whether a `#/a/0`-style pointer names the document, a value in it, or a missing key of
    an object in it (a required field that was removed)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")[1:]]
    current = document
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        if isinstance(current, dict):
            if part not in current:
                return last
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False
    return True


@pytest.mark.parametrize("name", ADAPTERS)
def test_any_mutation_of_a_sample_is_a_receipt_or_a_4xx_pointing_into_it(
    client, partner, make_staff, name
):
    op = make_staff()

    def stored() -> int:
        return client.get("/v1/triage/queue", headers=op.headers).get_json()["counts"]["open"]

    @settings(
        max_examples=150,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=mutated(name))
    def check(body: dict[str, Any]) -> None:
        before = stored()
        response = post_native(client, partner, name, body)
        assert response.status_code in (201, 409, 422), (response.status_code, body)
        if response.status_code == 201:
            assert stored() == before + 1
            return
        assert response.mimetype == PROBLEM_JSON
        problem = response.get_json()
        assert problem["status"] == response.status_code
        for error in problem.get("errors", []):
            assert _resolves(body, error["pointer"]), (error, body)
        assert stored() == before

    check()
