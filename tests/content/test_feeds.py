"""Atom and JSON Feed: parse with feedparser, hold every visible item of the filter."""

from __future__ import annotations

import json
from datetime import datetime

import feedparser

from content_payloads import item_body


def test_atom_feed_parses_and_holds_every_item_of_the_audience(client, partner, seeded):
    response = client.get(
        "/v1/content/feed.atom?audience=cabin_crew&locale=en", headers=partner.headers
    )
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title
    assert parsed.feed.id
    assert parsed.feed.updated
    assert parsed.feed.author == "MIPROF"

    listed = client.get(
        "/v1/content?audience=cabin_crew&locale=en&limit=100", headers=partner.headers
    ).get_json()
    assert len(listed) >= 3
    assert sorted(e.id for e in parsed.entries) == sorted(
        f"urn:vigie:content:{i['id']}" for i in listed
    )
    by_id = {f"urn:vigie:content:{i['id']}": i for i in listed}
    for entry in parsed.entries:
        item = by_id[entry.id]
        assert entry.title == item["title"]
        assert entry.updated
        assert entry.published
        assert entry.content[0].value == item["body_html"]
        assert "cabin_crew" in [t.term for t in entry.tags]


def check_json_feed(document: dict) -> None:
    """JSON Feed 1.1's required elements and types (feedparser 6.0, the current release,
    reads only XML feeds, so the JSON format is checked against the specification here)."""
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str)
    assert document["title"]
    assert document["feed_url"].startswith("http")
    for author in document.get("authors", []):
        assert {"name", "url", "avatar"} & set(author)
    ids = [item["id"] for item in document["items"]]
    assert len(set(ids)) == len(ids)
    for item in document["items"]:
        assert isinstance(item["id"], str)
        assert item["id"]
        assert item.get("content_html") or item.get("content_text")
        for name in ("date_published", "date_modified"):
            datetime.fromisoformat(item[name])  # RFC 3339
            assert item[name].endswith("+00:00")
        for attachment in item.get("attachments", []):
            assert attachment["url"]
            assert attachment["mime_type"]


def test_json_feed_parses_and_holds_every_item_in_the_locale(client, partner, seeded):
    response = client.get(
        "/v1/content/feed.json?audience=travellers&locale=zh", headers=partner.headers
    )
    assert response.status_code == 200
    assert response.mimetype == "application/feed+json"
    document = json.loads(response.data)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"]
    assert isinstance(document["items"], list)
    assert all(item["id"] and item["content_html"] for item in document["items"])

    check_json_feed(document)
    listed = client.get(
        "/v1/content?audience=travellers&locale=zh&limit=100", headers=partner.headers
    ).get_json()
    assert sorted(i["id"] for i in document["items"]) == sorted(
        f"urn:vigie:content:{i['id']}" for i in listed
    )
    languages = {item["language"] for item in document["items"]}
    assert "zh" in languages
    assert languages <= {"zh", "fr"}


def test_feeds_answer_conditional_requests(client, partner, seeded, editor):
    for path in ("/v1/content/feed.atom?audience=hosts", "/v1/content/feed.json?audience=hosts"):
        first = client.get(path, headers=partner.headers)
        etag = first.headers["ETag"]
        again = client.get(path, headers={**partner.headers, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.data == b""
        since = client.get(
            path, headers={**partner.headers, "If-Modified-Since": first.headers["Last-Modified"]}
        )
        assert since.status_code == 304

    feed = json.loads(
        client.get("/v1/content/feed.json?audience=hosts", headers=partner.headers).data
    )
    first_id = feed["items"][0]["id"].rsplit(":", 1)[1]
    etag = client.get("/v1/content/feed.json?audience=hosts", headers=partner.headers).headers[
        "ETag"
    ]
    client.post(f"/v1/admin/content/{first_id}/retire", headers=editor.headers)
    after = client.get(
        "/v1/content/feed.json?audience=hosts", headers={**partner.headers, "If-None-Match": etag}
    )
    assert after.status_code == 200
    assert first_id not in after.get_data(as_text=True)


def test_media_links_reach_both_feeds(client, partner, publish):
    media = {
        "url": "https://cdn.example/affiche.pdf",
        "mime_type": "application/pdf",
        "alt": "Affiche : les numéros d'urgence",
        "bytes": 48213,
        "sha256": "a" * 64,
    }
    fr = {**item_body()["translations"]["fr"], "media": [media]}
    publish(translations={"fr": fr})
    atom = feedparser.parse(client.get("/v1/content/feed.atom", headers=partner.headers).data)
    assert not atom.bozo
    enclosures = [link for link in atom.entries[0].links if link.rel == "enclosure"]
    assert enclosures[0].href == media["url"]
    assert enclosures[0].type == "application/pdf"
    document = json.loads(client.get("/v1/content/feed.json", headers=partner.headers).data)
    check_json_feed(document)
    assert document["items"][0]["attachments"] == [
        {
            "url": media["url"],
            "mime_type": "application/pdf",
            "title": media["alt"],
            "size_in_bytes": 48213,
        }
    ]
    item = client.get("/v1/content", headers=partner.headers).get_json()[0]
    assert item["media"] == [media]


def test_json_feed_is_documented_as_the_object_it_is(client, partner, seeded):
    # Found by tests/test_api_fuzz.py: the document said a JSON Feed was a JSON string.
    documented = client.get("/openapi.json").get_json()["paths"]["/v1/content/feed.json"]["get"]
    schema = documented["responses"]["200"]["content"]["application/feed+json"]["schema"]
    assert schema["type"] == "object"
    served = client.get("/v1/content/feed.json?audience=hosts", headers=partner.headers)
    body = json.loads(served.data)
    assert isinstance(body, dict)
    assert set(schema["required"]) <= set(body)


def test_each_atom_feed_has_its_own_id_and_entries_link_their_json(client, partner, seeded):
    def atom(query: str):
        response = client.get(f"/v1/content/feed.atom?{query}", headers=partner.headers)
        assert response.status_code == 200
        return feedparser.parse(response.data)

    ids = {
        query: atom(query).feed.id
        for query in (
            "locale=en",
            "locale=fr",
            "audience=cabin_crew&locale=en",
            "audience=hosts&locale=en",
            "audience=hosts&kind=poster&locale=en",
        )
    }
    assert len(set(ids.values())) == len(ids), ids
    # The id is the feed's, not the URL's: the same filter in another order, the same feed.
    assert (
        atom("locale=en&kind=poster&audience=hosts").feed.id
        == ids["audience=hosts&kind=poster&locale=en"]
    )

    entry = atom("audience=cabin_crew&locale=en").entries[0]
    (alternate,) = [link for link in entry.links if link.rel == "alternate"]
    assert alternate.type == "application/json"  # no HTML page: an honest media type
    path = alternate.href.split("://", 1)[1].split("/", 1)[1]
    item = client.get(f"/{path}", headers=partner.headers)
    assert item.status_code == 200
    assert item.mimetype == "application/json"
    assert f"urn:vigie:content:{item.get_json()['id']}" == entry.id
