"""The shelter network forwarder on its own: found by name, what it builds, how it reads an
answer, and the README's sample, which must be what it builds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from vigie import integrations
from vigie.integrations import ForwardContext, Forwarder

README = Path(__file__).resolve().parents[2] / "integrations" / "shelter_network" / "README.md"
REFERRAL = {
    "referral_id": "ref_7q2m9x4k3v1bn8c5",
    "shelter": {"id": "shl_4k2m7q9x3v5b8n1c", "name": "CHRS Les Tilleuls"},
    "target_type": "emergency_shelter",
    "priority": "P1",
    "department": "13",
    "persons": {"count": 3, "minors": 1, "minors_involved": True},
    "languages": ["ro", "fr"],
}
CONTEXT = ForwardContext(
    public_base_url="https://vigie.miprof.gouv.fr/", contact="Permanence MIPROF, +33 1 40 00 00 00"
)


@pytest.fixture
def forwarder() -> Forwarder:
    found = integrations.load("shelter_network")
    assert isinstance(found, Forwarder)
    return found


def test_it_is_registered_by_name(forwarder):
    assert forwarder.name == "shelter_network"
    assert "shelter_network" in integrations.available()


def test_the_readme_sample_is_what_it_builds(forwarder):
    text = README.read_text("utf-8")
    block = re.search(r"<!-- sample: forwarded referral -->\n```json\n(.*?)\n```", text, re.S)
    assert block is not None
    sample = json.loads(block.group(1))
    assert sample["type"] == "referral.created"
    assert forwarder.payload(REFERRAL, CONTEXT) == sample["data"]
    # Every field of the payload has its line in the README's table.
    for name in ("referral_id", "shelter.id", "priority", "department", "people.count",
                 "people.minors", "people.minors_involved", "languages", "reply.outcomes_url",
                 "reply.referral_id", "reply.contact"):  # fmt: skip
        assert f"`data.{name}`" in text


def test_only_listed_facts_are_sent(forwarder):
    extra = {
        **REFERRAL,
        "partner": "Airbnb",
        "description": "texte libre",
        "persons": {**REFERRAL["persons"], "in_immediate_danger": True, "names": ["A"]},
        "shelter": {**REFERRAL["shelter"], "address": "3 rue des Lilas"},
    }
    sent = json.dumps(forwarder.payload(extra, CONTEXT))  # type: ignore[arg-type]
    for leaked in ("Airbnb", "texte libre", "in_immediate_danger", "names", "Lilas", "target_type"):
        assert leaked not in sent


def test_without_configuration_the_link_is_relative_and_the_contact_null(forwarder):
    reply = forwarder.payload(REFERRAL, ForwardContext(public_base_url="", contact=""))["reply"]
    assert reply == {
        "outcomes_url": "/v1/integrations/shelter_network/outcomes",
        "referral_id": REFERRAL["referral_id"],
        "contact": None,
    }


@pytest.mark.parametrize(
    ("status", "error", "ok", "retry"),
    [
        (200, None, True, False),
        (202, None, True, False),
        (204, None, True, False),
        (400, None, False, False),
        (413, None, False, False),
        (415, None, False, False),
        (422, None, False, False),
        (401, None, False, True),
        (403, None, False, True),
        (404, None, False, True),
        (408, None, False, True),
        (429, None, False, True),
        (301, None, False, True),
        (500, None, False, True),
        (503, None, False, True),
        (None, "timeout", False, True),
        (None, "unsafe_url:address", False, True),
    ],
)
def test_answers_are_success_retry_or_permanent(forwarder, status, error, ok, retry):
    verdict = forwarder.classify(status, error)
    assert (verdict.ok, verdict.retry, verdict.permanent) == (ok, retry, not ok and not retry)
    if not ok and not retry:
        assert verdict.error == "refused_by_intake"
    if status is None:
        assert verdict.error == error
