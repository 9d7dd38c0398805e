"""Each adapter's README is true: its code tables are the adapter's, its sample is the
adapter's sample (and the shared one when ../shared is there), and its shell examples,
run as written against a live server, answer what the README says."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from integrations.airbnb import codes as airbnb
from integrations.airline import codes as airline
from integrations.gites_de_france import labels as gites

from adapter_support import ADAPTERS, sample
from doc_blocks import ROOT, curl_outside_sh_blocks, run_blocks, section, sh_blocks
from live import vigie_server

SHARED = ROOT.parent / "shared" / "samples"
SHARED_NAMES = {
    "airbnb": "airbnb-native-report.json",
    "gites_de_france": "gites-form-submission.json",
    "airline": "airline-crew-report.json",
}
HEREDOC = re.compile(r"cat > [\w.-]+ <<'EOF'\n(.*?)^EOF$", flags=re.S | re.M)

# README section -> the adapter's table it must show, row for row
TABLES: dict[str, dict[str, dict[str, Any]]] = {
    "airbnb": {
        "### Concerns (`concerns` → `indicators`)": airbnb.CONCERNS,
        "### Suspected type (`suspected_type` → `suspected_exploitation`)": airbnb.SUSPECTED_TYPES,
        "### Reporter (`reported_by.type` → `reporter.role`)": airbnb.REPORTER_TYPES,
        "### Minors (`minors_present` → `persons.minors`)": airbnb.MINORS_PRESENT,
    },
    "gites_de_france": {
        "### Signs (`signes` → `indicators`)": gites.SIGNS,
        "### Suspected exploitation (`type_suspecte` → `suspected_exploitation`)": gites.TYPES,
    },
    "airline": {
        "### Observations (`observations` → `indicators`)": airline.OBSERVATIONS,
        "### Crew positions (`crew.position` → `reporter.role`)": airline.POSITIONS,
        "### Minor (`pax.minor` → `persons.minors`)": airline.MINOR,
        "### Risk now (`risk_now` → `persons.in_immediate_danger`)": airline.RISK_NOW,
    },
}


def _readme(name: str) -> str:
    return (ROOT / "integrations" / name / "README.md").read_text("utf-8")


def _rows(text: str) -> dict[str, str]:
    """A two-column markdown table as {first cell: first `code` of the second cell}."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.startswith("|") or set(cells[0]) <= {"-", " "}:
            continue
        found = re.search(r"`([^`]*)`", cells[1])
        if found:
            rows[cells[0].strip("`")] = found.group(1)
    return rows


def _shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


@pytest.mark.parametrize("name", ADAPTERS)
def test_the_readme_tables_are_the_adapter_tables(name):
    text = _readme(name)
    for heading, table in TABLES[name].items():
        assert _rows(section(text, heading)) == {k: _shown(v) for k, v in table.items()}, heading


def test_the_airline_tables_cover_the_codes_block_of_its_reports_exactly():
    codes = sample("airline")["_codes"]
    assert set(airline.OBSERVATIONS) == set(codes["observations"]) - {"_comment"}
    assert set(airline.POSITIONS) == set(codes["positions"])
    assert set(airline.MINOR) == set(codes["minor"])
    assert set(airline.RISK_NOW) == set(codes["risk_now"])


@pytest.mark.parametrize("name", ADAPTERS)
def test_the_readme_sends_the_adapter_sample(name):
    (shown,) = HEREDOC.findall(_readme(name))
    annotations_aside = {k: v for k, v in sample(name).items() if not k.startswith("_")}
    assert json.loads(shown) == annotations_aside


@pytest.mark.parametrize("name", ADAPTERS)
def test_the_sample_is_a_copy_of_the_shared_one(name):
    shared = SHARED / SHARED_NAMES[name]
    if not shared.exists():
        pytest.skip("../shared is not here; the project's own copy is what counts")
    assert json.loads(shared.read_text("utf-8")) == sample(name)


@pytest.mark.parametrize("name", ADAPTERS)
def test_every_curl_of_the_readme_is_in_a_block_that_runs(name):
    assert curl_outside_sh_blocks(_readme(name)) == []


# -- the examples, live ---------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    directory = tmp_path_factory.mktemp("adapters-live")
    seed = ROOT / "src" / "vigie" / "seed" / "content.json"
    with vigie_server(directory, setup=[("content", "load", str(seed))]) as server:
        created = json.loads(
            server.vigie(
                "partner",
                "create",
                "--name",
                "Adapters",
                "--scopes",
                "reports:write,reports:read,content:read",
                "--json",
            )
        )
        yield server, created["api_key"]


def _run(live, name, tmp_path):
    server, key = live
    env = {**server.env, "VIGIE_URL": server.url, "KEY": key}
    return run_blocks(sh_blocks(_readme(name)), cwd=tmp_path, env=env)


def _problem_pointers(output: str) -> list[str]:
    return [e["pointer"] for e in json.loads(output)["errors"]]


@pytest.mark.slow
def test_the_airbnb_readme_works_as_written(live, tmp_path):
    sent, refused = _run(live, "airbnb", tmp_path)
    receipt = json.loads(sent)
    assert (receipt["partner_reference"], receipt["priority"]) == ("TS-2026-0001842", "P3")
    assert receipt["guidance"] is None
    assert _problem_pointers(refused) == ["#/concerns/2"]
    assert "SPOOKY_VIBES" in refused


@pytest.mark.slow
def test_the_gites_readme_works_as_written(live, tmp_path):
    sent, refused = _run(live, "gites_de_france", tmp_path)
    receipt = json.loads(sent)
    assert receipt["partner_reference"] == "G-64-1123/2026-11-22T18:30"
    assert receipt["priority"] == "P2"
    assert "119" in [n["number"] for n in receipt["guidance"]["numbers"]]
    assert _problem_pointers(refused) == ["#/signes/1"]  # the shouted label was recognised
    assert "Fantômes dans le grenier" in json.loads(refused)["errors"][0]["detail"]


@pytest.mark.slow
def test_the_airline_readme_works_as_written(live, tmp_path):
    sent, refused, pulled, polled, incremental = _run(live, "airline", tmp_path)
    receipt = json.loads(sent)
    assert (receipt["partner_reference"], receipt["priority"]) == ("CSR-AF-2026-118204", "P1")
    assert _problem_pointers(refused) == ["#/observations/2"]
    copies = [json.loads(line) for line in (tmp_path / "briefings.jsonl").read_text().splitlines()]
    assert len(copies) == 3  # the seeded cabin crew items, over two pages of 2
    assert all("cabin_crew" in item["audiences"] for item in copies)
    assert pulled.startswith("3 briefings, up to ")
    assert polled.strip() == "304"
    assert json.loads(incremental) == []  # nothing changed after the high-water mark
