"""An airline's sync loop, conditional requests, and what other API workers see."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from content_payloads import item_body
from vigie import clock
from vigie.outbox.models import OutboxEvent


def pull_all(client, partner, **params):
    """Follow the Link header to the end; returns (items, ETag of the first page)."""
    items, url, first_etag, query = [], "/v1/content", None, dict(params)
    while url:
        response = client.get(url, query_string=query, headers=partner.headers)
        assert response.status_code == 200, response.get_json()
        first_etag = first_etag or response.headers["ETag"]
        items.extend(response.get_json())
        link = response.headers.get("Link")
        url = link[link.index("<") + 1 : link.index(">")] if link else None
        query = None
    return items, first_etag


def test_airline_sync_loop(client, partner, editor, publish, db):
    a = publish(key="a", audiences=["cabin_crew"])
    b = publish(key="b", audiences=["cabin_crew", "ground_staff"])
    c = publish(key="c", audiences=["cabin_crew"])
    publish(key="hosts-only", audiences=["hosts"])

    # 1. Full pull of the cabin-crew catalogue, page by page.
    copy, etag = pull_all(client, partner, audience="cabin_crew", locale="en", limit=2)
    assert [i["id"] for i in copy] == [a["id"], b["id"], c["id"]]
    assert all(i["locale"] == "en" and i["status"] == "published" for i in copy)
    high_water = max(i["updated_at"] for i in copy)

    # 2. Nothing changed: the device revalidates and gets 304 without a body.
    again = client.get(
        "/v1/content",
        query_string={"audience": "cabin_crew", "locale": "en", "limit": 2},
        headers={**partner.headers, "If-None-Match": etag},
    )
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    # 3. An editor updates one item and retires another.
    patched = client.patch(
        f"/v1/admin/content/{b['id']}",
        json={"translations": {"en": {**item_body()["translations"]["en"], "title": "New title"}}},
        headers=editor.headers,
    )
    assert patched.status_code == 200
    assert (
        client.post(f"/v1/admin/content/{b['id']}/publish", headers=editor.headers).status_code
        == 200
    )
    assert (
        client.post(f"/v1/admin/content/{c['id']}/retire", headers=editor.headers).status_code
        == 200
    )

    # The old validator no longer matches.
    stale = client.get(
        "/v1/content",
        query_string={"audience": "cabin_crew", "locale": "en", "limit": 2},
        headers={**partner.headers, "If-None-Match": etag},
    )
    assert stale.status_code == 200

    # 4. Incremental pull: exactly the changed item and the tombstone.
    changes, _ = pull_all(
        client, partner, audience="cabin_crew", locale="en", updated_since=high_water
    )
    assert len(changes) == 2
    changed, tomb = changes
    assert changed["id"] == b["id"]
    assert changed["title"] == "New title"
    assert changed["version"] == 2
    assert set(tomb) == {"id", "status", "updated_at"}
    assert tomb["id"] == c["id"]
    assert tomb["status"] == "retired"

    # The partner's copy, once applied, equals a fresh full pull.
    by_id = {i["id"]: i for i in copy}
    for entry in changes:
        if entry["status"] == "published":
            by_id[entry["id"]] = entry
        else:
            by_id.pop(entry["id"])
    fresh, _ = pull_all(client, partner, audience="cabin_crew", locale="en")
    assert sorted(by_id) == sorted(i["id"] for i in fresh)
    assert by_id[b["id"]] == next(i for i in fresh if i["id"] == b["id"])

    # Each publish and retire wrote its outbox event in the same transaction.
    with db.unit(write=False) as session:
        types = list(session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id)))
    assert types.count("content.published") == 5
    assert types.count("content.retired") == 1


def test_the_first_page_validator_changes_with_any_change_further_in_the_list(
    client, partner, editor, publish
):
    """Step 2 of the loop polls only the first page: a change on a later page (an item
    retired, one published at the end) must still make that page's ETag stale."""
    items = [publish(key=key, audiences=["cabin_crew"]) for key in ("a", "b", "c")]
    query = {"audience": "cabin_crew", "locale": "en", "limit": 2}

    def poll(etag):
        return client.get(
            "/v1/content", query_string=query, headers={**partner.headers, "If-None-Match": etag}
        )

    _, etag = pull_all(client, partner, **query)
    retired = client.post(f"/v1/admin/content/{items[2]['id']}/retire", headers=editor.headers)
    assert retired.status_code == 200
    changed = poll(etag)
    assert changed.status_code == 200
    assert [i["id"] for i in changed.get_json()] == [items[0]["id"], items[1]["id"]]
    assert poll(changed.headers["ETag"]).status_code == 304

    publish(key="d", audiences=["cabin_crew"])
    assert poll(changed.headers["ETag"]).status_code == 200


def test_if_modified_since_and_validators(client, partner, publish):
    item = publish()
    first = client.get(f"/v1/content/{item['id']}", headers=partner.headers)
    assert first.status_code == 200
    assert first.headers["ETag"].startswith('"')
    assert not first.headers["ETag"].startswith("W/")
    assert "public" in first.headers["Cache-Control"]
    assert "max-age=" in first.headers["Cache-Control"]
    assert first.headers["Vary"] == "Accept-Language, Authorization"
    since = first.headers["Last-Modified"]
    second = client.get(
        f"/v1/content/{item['id']}", headers={**partner.headers, "If-Modified-Since": since}
    )
    assert second.status_code == 304
    assert second.data == b""
    # A wrong ETag wins over a matching date (RFC 9110: If-None-Match takes precedence).
    third = client.get(
        f"/v1/content/{item['id']}",
        headers={**partner.headers, "If-Modified-Since": since, "If-None-Match": '"nope"'},
    )
    assert third.status_code == 200


def test_validators_differ_per_locale(client, partner, publish):
    publish()
    fr = client.get("/v1/content", headers=partner.headers)
    en = client.get("/v1/content?locale=en", headers=partner.headers)
    assert fr.headers["ETag"] != en.headers["ETag"]
    crossed = client.get(
        "/v1/content?locale=en", headers={**partner.headers, "If-None-Match": fr.headers["ETag"]}
    )
    assert crossed.status_code == 200


def test_not_modified_path_reads_no_content_table(app, client, partner, publish, db):
    publish()
    etag = client.get("/v1/content", headers=partner.headers).headers["ETag"]
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for _ in range(5):
            response = client.get("/v1/content", headers={**partner.headers, "If-None-Match": etag})
            assert response.status_code == 304
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "content_" in s]


def test_other_workers_see_a_publish_within_the_version_ttl(make_app, client, partner, publish):
    """A second app on the same database stands for another gunicorn worker."""
    other_app = make_app(content_version_ttl_seconds=30)
    other = other_app.test_client()
    first = publish(key="first")
    before = other.get("/v1/content", headers=partner.headers)
    assert [i["id"] for i in before.get_json()] == [first["id"]]
    second = publish(key="second")
    cached = other.get("/v1/content", headers=partner.headers)
    assert cached.headers["ETag"] == before.headers["ETag"]  # within the bound: not yet
    clock.travel(31)
    fresh = other.get("/v1/content", headers=partner.headers)
    assert [i["id"] for i in fresh.get_json()] == [first["id"], second["id"]]
    other_app.extensions["vigie.content"].recorder.close()


def test_expired_items_leave_the_list_and_become_tombstones(client, partner, publish):
    item = publish(expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    listed = client.get("/v1/content", headers=partner.headers)
    assert [i["id"] for i in listed.get_json()] == [item["id"]]
    high_water = listed.get_json()[0]["updated_at"]
    clock.travel(3601)
    assert client.get("/v1/content", headers=partner.headers).get_json() == []
    changes = client.get(
        "/v1/content", query_string={"updated_since": high_water}, headers=partner.headers
    ).get_json()
    assert [(c["id"], c["status"]) for c in changes] == [(item["id"], "expired")]
    assert client.get(f"/v1/content/{item['id']}", headers=partner.headers).status_code == 410
