"""The plan's indicators include how much awareness content each partner pulled."""

from __future__ import annotations

from vigie import clock
from vigie.content import importing


def test_indicators_count_content_pulls_per_partner(app, client, make_partner, make_staff):
    importing.load_seed(app.extensions["vigie"])
    airline = make_partner(name="Compagnie aérienne")
    supervisor = make_staff("supervisor")
    first_page = client.get("/v1/content?limit=5", headers=airline.headers)
    assert first_page.status_code == 200
    delivered = len(first_page.get_json())
    clock.travel(31)  # past content_pull_flush_seconds: the next response writes the batch
    second = client.get("/v1/content?limit=1", headers=airline.headers)
    delivered += len(second.get_json())  # counted, then written with the batch it triggers
    second.close()

    body = client.get("/v1/stats/indicators", headers=supervisor.headers).get_json()
    (row,) = body["content_pulls_by_partner"]
    assert row["partner_name"] == "Compagnie aérienne"
    assert row["partner_id"] == airline["id"]
    assert row["pulls"] == delivered
