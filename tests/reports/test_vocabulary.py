"""GET /v1/indicators serves the whole domain vocabulary with French and English labels."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

VOCABULARY = Path(__file__).resolve().parents[3] / "shared" / "vocabulary.md"


def _codes(section: str) -> set[str]:
    text = VOCABULARY.read_text("utf-8")
    body = text.split(section, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", body, flags=re.MULTILINE))


@pytest.fixture
def vocabulary_file() -> Path:
    if not VOCABULARY.is_file():
        if os.environ.get("VIGIE_TEST_REQUIRE_ALL") == "1":
            pytest.fail("shared/vocabulary.md must be beside the checkout in CI")
        pytest.skip("shared/vocabulary.md is not beside this checkout")
    return VOCABULARY


def test_every_code_of_the_vocabulary_is_served(client, vocabulary_file):
    served = client.get("/v1/indicators").get_json()
    indicators = {i["code"]: i for i in served["indicators"]}
    exploitation = {e["code"]: e for e in served["suspected_exploitation"]}
    assert set(indicators) == _codes("## Indicators")
    assert set(exploitation) == _codes("## Forms of exploitation")
    for entry in [*indicators.values(), *exploitation.values()]:
        assert entry["fr"]
        assert entry["en"]


def test_indicators_say_their_context_and_weight(client):
    served = {i["code"]: i for i in client.get("/v1/indicators").get_json()["indicators"]}
    assert served["restricted_movement"] == {
        "code": "restricted_movement",
        "context": "any",
        "strong": True,
        "fr": "Personnes qui ne peuvent pas sortir ou circuler librement",
        "en": "People who cannot come and go freely",
    }
    assert served["frequent_visitors"]["context"] == "stay"
    assert served["seated_apart_but_watched"]["context"] == "flight"
    assert len(served) == 31


def test_vocabulary_needs_no_credentials(client):
    assert client.get("/v1/indicators").status_code == 200
