"""GET /v1/reports: the partner's own reports, filtered, with cursor pagination."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from payloads import stay_report
from vigie import clock
from vigie.reports.models import Report

LINK = re.compile(r'^<([^>]+)>; rel="next"$')


def _seed(post_report, actor, count, prefix="R"):
    ids = []
    for i in range(count):
        response = post_report(actor, stay_report(partner_reference=f"{prefix}-{i}"))
        assert response.status_code == 201
        ids.append(response.get_json()["id"])
        clock.travel(1)
    return ids


def _next(response):
    header = response.headers.get("Link")
    if header is None:
        return None
    url = urlsplit(LINK.match(header).group(1))
    return f"{url.path}?{url.query}"


def _walk(client, actor, url):
    seen, pages = [], 0
    while url:
        response = client.get(url, headers=actor.headers)
        assert response.status_code == 200, response.get_json()
        seen += [r["id"] for r in response.get_json()]
        pages += 1
        url = _next(response)
    return seen, pages


def test_pages_follow_the_link_header_to_the_end(client, partner, post_report):
    ids = _seed(post_report, partner, 5)
    first = client.get("/v1/reports?limit=2&status=received", headers=partner.headers)
    assert len(first.get_json()) == 2
    next_url = _next(first)
    query = parse_qs(urlsplit(next_url).query)
    assert query["limit"] == ["2"]
    assert query["status"] == ["received"]
    assert query["cursor"]
    seen, pages = _walk(client, partner, "/v1/reports?limit=2&status=received")
    assert seen == ids  # oldest update first, each exactly once
    assert pages == 3


def test_a_full_last_page_has_no_next_link(client, partner, post_report):
    _seed(post_report, partner, 2)
    response = client.get("/v1/reports?limit=2", headers=partner.headers)
    assert "Link" not in response.headers


def test_reports_created_after_a_cursor_are_still_reached(client, partner, post_report):
    ids = _seed(post_report, partner, 2)
    first = client.get("/v1/reports?limit=2", headers=partner.headers)
    assert _next(first) is None
    later = _seed(post_report, partner, 1, prefix="L")
    resume = client.get(
        "/v1/reports?updated_since=" + first.get_json()[-1]["updated_at"].replace("+", "%2B"),
        headers=partner.headers,
    )
    assert [r["id"] for r in resume.get_json()] == [ids[-1], *later]


def test_another_partners_reports_are_not_listed(client, make_partner, post_report):
    mine, theirs = make_partner("A"), make_partner("B")
    own = _seed(post_report, mine, 2)
    _seed(post_report, theirs, 2, prefix="T")
    seen, _ = _walk(client, mine, "/v1/reports?limit=1")
    assert seen == own


def _bad_cursors():
    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return [
        "not-a-cursor!",
        encode(b"[1,2]"),
        encode(b'{"x":1}'),
        encode(b'{"u":"yesterday","i":1}'),
        encode(b'{"u":"2026-01-01T00:00:00+00:00","i":"one"}'),
    ]


@pytest.mark.parametrize("cursor", _bad_cursors())
def test_a_malformed_cursor_is_400_naming_it(client, partner, cursor):
    response = client.get("/v1/reports", query_string={"cursor": cursor}, headers=partner.headers)
    assert response.status_code == 400
    body = response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    assert body["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("status=referred", "status"),
        ("updated_since=2026-11-20T10:00:00", "updated_since"),
        ("updated_since=yesterday", "updated_since"),
    ],
)
def test_bad_query_parameters_are_422_naming_them(client, partner, query, field):
    response = client.get(f"/v1/reports?{query}", headers=partner.headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_status_filter_uses_the_coarse_statuses(client, partner, post_report, db):
    ids = _seed(post_report, partner, 4)
    with db.unit() as session:
        for public_id, status in zip(ids, ["in_review", "referred", "closed"], strict=False):
            session.execute(
                update(Report).where(Report.public_id == public_id).values(status=status)
            )

    def listed(status):
        response = client.get(f"/v1/reports?status={status}", headers=partner.headers)
        return [(r["id"], r["status"]) for r in response.get_json()]

    assert listed("in_review") == [(ids[0], "in_review")]
    assert listed("actioned") == [(ids[1], "actioned")]  # "referred" is never shown
    assert listed("closed") == [(ids[2], "closed")]
    assert listed("received") == [(ids[3], "received")]


def test_updated_since_keeps_reports_updated_at_or_after_it(client, partner, post_report):
    ids = _seed(post_report, partner, 3)
    all_reports = client.get("/v1/reports", headers=partner.headers).get_json()
    since = all_reports[1]["updated_at"]
    response = client.get(
        "/v1/reports", query_string={"updated_since": since}, headers=partner.headers
    )
    assert [r["id"] for r in response.get_json()] == ids[1:]
    response = client.get(
        "/v1/reports",
        query_string={"updated_since": "2099-01-01T00:00:00Z"},
        headers=partner.headers,
    )
    assert response.get_json() == []


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00%2B05:00", "9999-12-31T23:00:00-05:00"])
def test_updated_since_out_of_range_is_422_not_500(client, partner, since):
    # Found by the API fuzz: converting these to UTC overflowed Python's datetime.
    response = client.get(f"/v1/reports?updated_since={since}", headers=partner.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "updated_since"


@pytest.mark.parametrize("path", ["/v1/reports", "/v1/content"])
@pytest.mark.parametrize("since", ["2026-11-20T22:40:00+01:00", "2026-11-20T22:40:00"])
def test_updated_since_without_a_usable_offset_says_how_to_write_one(client, partner, path, since):
    # Unencoded, the + of +01:00 arrives as a space; without an offset the instant is ambiguous.
    response = client.get(f"{path}?updated_since={since}", headers=partner.headers)
    assert response.status_code == 422
    (error,) = response.get_json()["errors"]
    assert error["field"] == "updated_since"
    assert "with an offset, Z or +01:00" in error["detail"]
    assert "URL-encode the + as %2B" in error["detail"]
    encoded = client.get(
        f"{path}?updated_since=2026-11-20T22:40:00%2B01:00", headers=partner.headers
    )
    assert encoded.status_code == 200
