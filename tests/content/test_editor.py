"""The editors' workflow: drafts, publishing rules, sanitising, events, roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from content_payloads import item_body
from vigie.outbox.models import OutboxEvent


def create(client, editor, **changes):
    return client.post("/v1/admin/content", json=item_body(**changes), headers=editor.headers)


def test_draft_is_invisible_until_published(client, editor, partner):
    created = create(client, editor)
    assert created.status_code == 201
    item = created.get_json()
    assert created.headers["Location"] == f"/v1/admin/content/{item['id']}"
    assert item["status"] == "draft"
    assert item["version"] == 0
    assert item["pending_changes"]
    assert client.get("/v1/content", headers=partner.headers).get_json() == []
    assert client.get(f"/v1/content/{item['id']}", headers=partner.headers).status_code == 404

    published = client.post(f"/v1/admin/content/{item['id']}/publish", headers=editor.headers)
    assert published.status_code == 200
    body = published.get_json()
    assert body["status"] == "published"
    assert body["version"] == 1
    assert not body["pending_changes"]
    listed = client.get("/v1/content", headers=partner.headers).get_json()
    assert [i["id"] for i in listed] == [item["id"]]


def test_editing_a_published_item_changes_nothing_until_republished(client, editor, partner):
    item = create(client, editor).get_json()
    client.post(f"/v1/admin/content/{item['id']}/publish", headers=editor.headers)
    patch = {"translations": {"fr": {**item_body()["translations"]["fr"], "title": "Brouillon"}}}
    edited = client.patch(f"/v1/admin/content/{item['id']}", json=patch, headers=editor.headers)
    assert edited.get_json()["pending_changes"] is True
    assert edited.get_json()["translations"]["en"]["title"] == "Spotting the signs on board"
    seen = client.get(f"/v1/content/{item['id']}", headers=partner.headers).get_json()
    assert seen["title"] == "Repérer les signes à bord"
    assert seen["version"] == 1

    client.post(f"/v1/admin/content/{item['id']}/publish", headers=editor.headers)
    seen = client.get(f"/v1/content/{item['id']}", headers=partner.headers).get_json()
    assert seen["title"] == "Brouillon"
    assert seen["version"] == 2


def test_publishing_without_french_is_a_409_with_the_reason(client, editor):
    translations = {"en": item_body()["translations"]["en"]}
    item = create(client, editor, translations=translations).get_json()
    refused = client.post(f"/v1/admin/content/{item['id']}/publish", headers=editor.headers)
    assert refused.status_code == 409
    problem = refused.get_json()
    assert "French translation" in problem["detail"]
    assert problem["errors"][0]["field"] == "translations.fr"


def test_publishing_needs_https_media(client, editor):
    fr = {
        **item_body()["translations"]["fr"],
        "media": [
            {
                "url": "http://cdn.example/poster.pdf",
                "mime_type": "application/pdf",
                "alt": "Affiche",
            }
        ],
    }
    item = create(client, editor, translations={"fr": fr}).get_json()
    refused = client.post(f"/v1/admin/content/{item['id']}/publish", headers=editor.headers)
    assert refused.status_code == 409
    assert refused.get_json()["errors"][0]["field"] == "translations.fr.media[0].url"


def test_script_and_event_handlers_are_stored_but_never_rendered(client, editor, partner):
    hostile = (
        "Bonjour <script>alert('x')</script>\n\n"
        '<img src="x" onerror="alert(1)"> '
        '<a href="https://ok.example" onclick="steal()">lien</a>\n\n'
        '[clic](javascript:alert(1)) <div onmouseover="alert(2)">survol</div>'
    )
    fr = {**item_body()["translations"]["fr"], "body_markdown": hostile}
    item = create(client, editor, translations={"fr": fr}).get_json()
    assert item["translations"]["fr"]["body_markdown"] == hostile  # stored as written
    client.post(f"/v1/admin/content/{item['id']}/publish", headers=editor.headers)
    for html in (
        client.get(f"/v1/admin/content/{item['id']}", headers=editor.headers).get_json()[
            "translations"
        ]["fr"]["body_html"],
        client.get(f"/v1/content/{item['id']}", headers=partner.headers).get_json()["body_html"],
    ):
        lowered = html.lower()
        for forbidden in (
            "<script",
            "alert('x')",
            "onerror",
            "onclick",
            "onmouseover",
            'href="javascript:',
            "<img",
        ):
            assert forbidden not in lowered, html
        assert "Bonjour" in html
        assert '<a href="https://ok.example"' in html


def test_retire_and_republish_write_events(client, editor, db):
    item = create(client, editor).get_json()
    url = f"/v1/admin/content/{item['id']}"
    assert (
        client.post(f"{url}/retire", headers=editor.headers).status_code == 409
    )  # never published
    client.post(f"{url}/publish", headers=editor.headers)
    again = client.post(f"{url}/publish", headers=editor.headers)  # unchanged: nothing happens
    assert again.status_code == 200
    assert again.get_json()["version"] == 1
    retired = client.post(f"{url}/retire", headers=editor.headers)
    assert retired.status_code == 200
    assert retired.get_json()["status"] == "retired"
    assert client.post(f"{url}/retire", headers=editor.headers).status_code == 200
    republished = client.post(f"{url}/publish", headers=editor.headers).get_json()
    assert republished["status"] == "published"
    assert republished["version"] == 2
    with db.unit(write=False) as session:
        events = list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    assert [e.type for e in events] == ["content.published", "content.retired", "content.published"]
    assert all(e.partner_id is None for e in events)
    assert events[0].data["id"] == item["id"]
    assert events[0].data["version"] == 1
    assert "body_markdown" not in str(events[0].data)


def test_editor_input_is_validated(client, editor):
    cases = [
        ({"kind": "tweet"}, "kind"),
        ({"audiences": ["pilots"]}, "audiences[0]"),
        ({"audiences": []}, "audiences"),
        ({"exploitation": ["organ_removal"]}, "exploitation[0]"),
        ({"translations": {"not a locale!": item_body()["translations"]["fr"]}}, "translations"),
        ({"translations": {"fr": {"title": "x"}}}, "translations.fr.value.summary"),
        ({"unexpected": 1}, "unexpected"),
    ]
    for changes, field in cases:
        response = create(client, editor, **changes)
        assert response.status_code == 422, changes
        fields = [e["field"] for e in response.get_json()["errors"]]
        assert any(f.startswith(field) for f in fields), (field, fields)
    cta = {
        **item_body()["translations"]["fr"],
        "call_to_action": {"label": "x", "phone": "17", "url": "https://a.example"},
    }
    assert create(client, editor, translations={"fr": cta}).status_code == 422


def test_patch_merges_translations_by_locale(client, editor):
    item = create(client, editor).get_json()
    url = f"/v1/admin/content/{item['id']}"
    ro = {"title": "Semne", "summary": "Rezumat", "body_markdown": "Text"}
    body = client.patch(url, json={"translations": {"ro": ro, "en": None}}, headers=editor.headers)
    assert sorted(body.get_json()["translations"]) == ["fr", "ro"]
    assert client.patch(url, json={"audiences": ["hosts"]}, headers=editor.headers).get_json()[
        "audiences"
    ] == ["hosts"]
    assert (
        client.patch("/v1/admin/content/cnt_missing", json={}, headers=editor.headers).status_code
        == 404
    )


def test_only_editors_write_content(client, make_staff, partner):
    operator = make_staff("operator")
    assert (
        client.post("/v1/admin/content", json=item_body(), headers=operator.headers).status_code
        == 403
    )
    assert (
        client.post("/v1/admin/content", json=item_body(), headers=partner.headers).status_code
        == 403
    )
    assert client.post("/v1/admin/content", json=item_body()).status_code == 401


def test_editors_list_every_status(client, editor):
    ids = [create(client, editor, key=f"k{n}").get_json()["id"] for n in range(3)]
    client.post(f"/v1/admin/content/{ids[0]}/publish", headers=editor.headers)
    drafts = client.get("/v1/admin/content?status=draft", headers=editor.headers).get_json()
    assert [d["id"] for d in drafts] == ids[1:]
    page = client.get("/v1/admin/content?limit=2", headers=editor.headers)
    assert len(page.get_json()) == 2
    assert 'rel="next"' in page.headers["Link"]
    assert create(client, editor, key="k1").status_code == 409  # keys are unique


def test_patch_changes_kind_and_expiry(client, editor):
    item = create(client, editor).get_json()
    url = f"/v1/admin/content/{item['id']}"
    body = client.patch(
        url,
        json={"kind": "poster", "expires_at": "2030-01-01T00:00:00+00:00"},
        headers=editor.headers,
    ).get_json()
    assert body["kind"] == "poster"
    assert body["expires_at"] == "2030-01-01T00:00:00+00:00"
    assert (
        client.patch(url, json={"expires_at": None}, headers=editor.headers).get_json()[
            "expires_at"
        ]
        is None
    )


def test_concurrent_publishes_get_distinct_ordered_instants(client, editor, db):
    """Publishers queue on the content version row: no lost update, no equal updated_at."""
    import threading

    from vigie.content import service

    ids = [create(client, editor, key=f"c{n}").get_json()["id"] for n in range(6)]
    errors: list[BaseException] = []

    def publish_one(item_id: str) -> None:
        try:
            with db.unit() as session:
                service.publish(session=session, item_id=item_id, operator_id=None)
        except BaseException as exc:  # noqa: BLE001 - a thread reports any failure to the test
            errors.append(exc)

    threads = [threading.Thread(target=publish_one, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.unit(write=False) as session:
        token = service.state_token(session=session)
        stamps = [service.get(session=session, item_id=i).updated_at for i in ids]
    assert token.startswith("6:")
    assert len(set(stamps)) == 6


@pytest.mark.parametrize("when", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"])
def test_expiry_out_of_range_is_422_not_500(client, make_staff, when):
    # Found by tests/test_api_fuzz.py: storing these in UTC overflowed (a 500).
    editor = make_staff("editor")
    created = client.post(
        "/v1/admin/content", json=item_body(expires_at=when), headers=editor.headers
    )
    assert created.status_code == 422
    assert created.get_json()["errors"][0]["field"] == "expires_at"
    item = client.post("/v1/admin/content", json=item_body(), headers=editor.headers).get_json()
    patched = client.patch(
        f"/v1/admin/content/{item['id']}", json={"expires_at": when}, headers=editor.headers
    )
    assert patched.status_code == 422
    assert patched.get_json()["errors"][0]["field"] == "expires_at"
