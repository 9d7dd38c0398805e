"""Partners reading content: filters, locales, pagination and bad input."""

from __future__ import annotations

import pytest

from content_payloads import item_body


def test_filters_by_audience_kind_and_campaign(client, partner, publish):
    crew = publish(key="crew", audiences=["cabin_crew"], kind="briefing")
    hosts = publish(key="hosts", audiences=["hosts"], kind="guide", campaigns=["jo-2026"])
    both = publish(key="both", audiences=["hosts", "cabin_crew"], kind="poster")

    def ids(**query):
        response = client.get("/v1/content", query_string=query, headers=partner.headers)
        assert response.status_code == 200
        return [i["id"] for i in response.get_json()]

    assert ids() == [crew["id"], hosts["id"], both["id"]]
    assert ids(audience="hosts") == [hosts["id"], both["id"]]
    assert ids(audience="cabin_crew", kind="poster") == [both["id"]]
    assert ids(campaign="jo-2026") == [hosts["id"]]
    assert ids(audience="travellers") == []


def test_locale_negotiation(client, partner, publish):
    ro = {"title": "Semne la bord", "summary": "Rezumat", "body_markdown": "Text"}
    item = publish(translations={**item_body()["translations"], "ro": ro})
    only_fr = publish(key="fr-only", translations={"fr": item_body()["translations"]["fr"]})
    url = f"/v1/content/{item['id']}"

    def served(path=url, **headers):
        response = client.get(path, headers={**partner.headers, **headers})
        assert response.status_code == 200
        return response.headers["Content-Language"], response.get_json()

    assert served()[0] == "fr"  # nothing asked: French
    assert served(f"{url}?locale=en")[1]["locale"] == "en"
    assert served(f"{url}?locale=en", **{"Accept-Language": "ro"})[0] == "en"  # locale= wins
    assert served(**{"Accept-Language": "de, ro;q=0.8, en;q=0.9"})[0] == "en"  # quality values
    assert served(**{"Accept-Language": "ro-RO"})[1]["title"] == "Semne la bord"
    assert served(**{"Accept-Language": "de"})[0] == "fr"  # unknown: fall back to French
    assert served(f"{url}?locale=zh-Hans")[0] == "fr"

    # An item without the requested locale falls back to fr within a list.
    listed = client.get("/v1/content?locale=ro", headers=partner.headers)
    assert [(i["id"], i["locale"]) for i in listed.get_json()] == [
        (item["id"], "ro"),
        (only_fr["id"], "fr"),
    ]
    assert listed.headers["Content-Language"] == "ro, fr"


def test_a_locale_the_item_lacks_falls_back_to_french(client, partner, editor):
    item = client.post(
        "/v1/admin/content",
        json=item_body(
            translations={
                **item_body()["translations"],
                "es": {"title": "Señales", "summary": "Resumen", "body_markdown": "Texto"},
            }
        ),
        headers=editor.headers,
    ).get_json()
    client.post(f"/v1/admin/content/{item['id']}/publish", headers=editor.headers)
    body = client.get(f"/v1/content/{item['id']}?locale=ro", headers=partner.headers).get_json()
    assert body["locale"] == "fr"
    assert body["available_locales"] == ["en", "es", "fr"]


def test_pagination_follows_link(client, partner, publish):
    made = [publish(key=f"k{n}")["id"] for n in range(5)]
    first = client.get("/v1/content?limit=2", headers=partner.headers)
    assert [i["id"] for i in first.get_json()] == made[:2]
    link = first.headers["Link"]
    second = client.get(link[link.index("<") + 1 : link.index(">")], headers=partner.headers)
    assert [i["id"] for i in second.get_json()] == made[2:4]
    default = client.get("/v1/content", headers=partner.headers)
    assert len(default.get_json()) == 5
    assert "Link" not in default.headers


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("audience=pilots", 422, "audience"),
        ("kind=tweet", 422, "kind"),
        ("locale=not_a_tag!", 422, "locale"),
        ("campaign=Bad%20Tag", 422, "campaign"),
        ("limit=101", 422, "limit"),
        ("limit=0", 422, "limit"),
        ("updated_since=yesterday", 422, "updated_since"),
        ("cursor=!!notacursor", 400, "cursor"),
        ("cursor=eyJ4IjoxfQ", 400, "cursor"),
    ],
)
def test_bad_query_parameters(client, partner, publish, query, status, field):
    publish()
    response = client.get(f"/v1/content?{query}", headers=partner.headers)
    assert response.status_code == status
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in problem["errors"]]
    assert problem["errors"][0].get("in") == "query"


def test_feeds_reject_bad_parameters(client, partner):
    response = client.get("/v1/content/feed.atom?audience=pilots", headers=partner.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "audience"


def test_needs_the_content_scope(client, make_partner, publish):
    item = publish()
    reporter = make_partner(name="Reports only", scopes=("reports:write",))
    for path in ("/v1/content", f"/v1/content/{item['id']}", "/v1/content/feed.json"):
        assert client.get(path, headers=reporter.headers).status_code == 403
        assert client.get(path).status_code == 401


def test_unknown_and_retired_items(client, partner, editor, publish):
    assert client.get("/v1/content/cnt_nothere", headers=partner.headers).status_code == 404
    item = publish()
    client.post(f"/v1/admin/content/{item['id']}/retire", headers=editor.headers)
    gone = client.get(f"/v1/content/{item['id']}", headers=partner.headers)
    assert gone.status_code == 410
    assert "retired" in gone.get_json()["detail"]
    # Without updated_since, a retired item simply is not listed (no tombstone).
    assert client.get("/v1/content", headers=partner.headers).get_json() == []


def test_a_remembered_answer_still_checks_the_key(client, partner, make_partner, publish):
    """The second identical request is served from memory, never without a valid key."""
    item = publish()
    reporter = make_partner(name="Reports only", scopes=("reports:write",))
    for path in ("/v1/content?locale=en", f"/v1/content/{item['id']}", "/v1/content/feed.atom"):
        assert client.get(path, headers=partner.headers).status_code == 200
        assert client.get(path, headers=partner.headers).status_code == 200
        assert client.get(path, headers=reporter.headers).status_code == 403
        assert client.get(path).status_code == 401
        wrong = {"Authorization": "Bearer vk_not-a-key"}
        assert client.get(path, headers=wrong).status_code == 401
