"""The shipped seed content, `vigie content load`, and pull counting."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from vigie import clock
from vigie.cli import main
from vigie.content import importing, service
from vigie.content.schemas import AUDIENCES

EMERGENCY_NUMBERS = {"17", "112", "114", "15", "119", "115"}


def test_seed_content_covers_the_audiences_in_french_and_english():
    documents = importing.parse(importing.SEED.read_text("utf-8"))
    assert len(documents) >= 8
    assert {a for d in documents for a in d["audiences"]} == set(AUDIENCES)
    assert all({"fr", "en"} <= set(d["translations"]) for d in documents)
    others = {tag for d in documents for tag in d["translations"]} - {"fr", "en"}
    assert {"es", "ro", "zh"} <= others
    assert len({d["key"] for d in documents}) == len(documents)
    for document in documents:
        for text in document["translations"].values():
            words = "\n".join([text["title"], text["summary"], text["body_markdown"]])
            words = re.sub(r"(?m)^\d+\. ", "", words)  # numbered steps
            assert "%" not in words  # no statistics
            assert set(re.findall(r"\d+", words)) <= {*EMERGENCY_NUMBERS, "24"}, words


def test_load_command_is_idempotent(app, client, partner):
    runner = app.test_cli_runner()
    first = runner.invoke(main, ["content", "load", str(importing.SEED), "--json"])
    assert first.exit_code == 0, first.output
    counts = json.loads(first.output)
    assert counts["created"] == counts["published"] >= 8
    second = runner.invoke(main, ["content", "load", str(importing.SEED), "--json"])
    assert json.loads(second.output) == {
        "created": 0,
        "updated": 0,
        "published": 0,
        "unchanged": counts["created"],
        "skipped_retired": 0,
    }
    listed = client.get("/v1/content?limit=100", headers=partner.headers).get_json()
    assert len(listed) == counts["created"]


def test_load_command_reports_invalid_files(app, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"key": "x", "kind": "tweet"}]), "utf-8")
    result = app.test_cli_runner().invoke(main, ["content", "load", str(bad)])
    assert result.exit_code != 0
    assert "kind" in result.output


def test_pulls_are_counted_per_partner_in_batches(app, client, make_partner, publish, db):
    airline = make_partner(name="Compagnie")
    platform = make_partner(name="Plateforme")
    item = publish()
    other = publish(key="other")
    for _ in range(3):
        client.get("/v1/content", headers=airline.headers)
    etag = client.get(f"/v1/content/{item['id']}?locale=en", headers=platform.headers).headers[
        "ETag"
    ]
    client.get(
        f"/v1/content/{item['id']}?locale=en",
        headers={**platform.headers, "If-None-Match": etag},
    )
    today = clock.now().date()
    with db.unit(write=False) as session:  # nothing written yet: counts wait for the batch
        assert service.pulls_by_partner(session=session, start=today, end=today) == []

    clock.travel(31)  # past content_pull_flush_seconds: the next response flushes after it
    # The server closes the response after sending it; that is when the batch is written.
    client.get("/v1/content/feed.json", headers=platform.headers).close()
    day = clock.now().date()
    with db.unit(write=False) as session:
        rows = service.pulls_by_partner(session=session, start=day - timedelta(days=1), end=day)
    by_name = {row["partner_name"]: row for row in rows}
    assert by_name["Compagnie"]["pulls"] == 6  # 3 lists of 2 items
    assert by_name["Compagnie"]["items"] == 2
    assert by_name["Plateforme"]["pulls"] == 3  # 1 item + a feed of 2
    assert by_name["Plateforme"]["revalidations"] == 1
    assert [row["partner_name"] for row in rows] == ["Compagnie", "Plateforme"]
    assert other["id"]
