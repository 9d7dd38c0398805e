"""A partner's first hour, through a client generated from our OpenAPI document.

`openapi-python-client` generates a client from the document the app serves (once per test
session); the journey then runs through that client only, against a real `vigie serve` and
`vigie worker` on the suite's database: send a report and read it back, list reports page by
page, keep a copy of the awareness content in sync (`updated_since`, cursor, tombstones, 304),
and manage a webhook endpoint, down to the signed test event parsed with the generated model.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from standardwebhooks import Webhook

from live import BIN, vigie_server
from payloads import stay_report
from vigie.content import importing
from webhook_receiver import Receiver

pytestmark = pytest.mark.slow
PACKAGE = "vigie_client"
# What openapi-python-client cannot model, and says so: a response that is not JSON.
ATOM_WARNING = "WARNING parsing GET /v1/content/feed.atom within content."


@dataclass
class Generated:
    package: ModuleType
    output: str  # what the generator printed

    def module(self, name: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture(scope="session")
def generated(session_app, tmp_path_factory) -> Iterator[Generated]:
    """The client generated from the served document, imported as `vigie_client`."""
    directory = tmp_path_factory.mktemp("generated")
    document = directory / "openapi.json"
    document.write_text(json.dumps(session_app.test_client().get("/openapi.json").get_json()))
    config = directory / "config.yml"
    config.write_text("post_hooks: []\n")  # no formatter pass: the same code, sooner
    done = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(directory / PACKAGE),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(directory))
    try:
        yield Generated(importlib.import_module(PACKAGE), done.stdout + done.stderr)
    finally:
        sys.path.remove(str(directory))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_generation_warns_only_that_the_atom_feed_is_not_json(generated):
    output = generated.output
    problems = [line for line in output.splitlines() if re.match(r"^(WARNING|ERROR)\b", line)]
    assert problems == [ATOM_WARNING], output
    assert output.count("Cannot parse") == 1, output
    assert "application/atom+xml" in output
    assert "Unable to" not in output, output


def test_every_operation_has_its_named_function(generated):
    assert generated.module("api.reports.create_report").sync_detailed
    assert generated.module("api.reports.list_reports").sync_detailed
    assert generated.module("api.content.list_content").sync_detailed
    assert generated.module("api.webhooks.test_webhook_endpoint").sync_detailed
    assert generated.module("models").WebhookTestEvent  # the webhooks' payloads have models


# -- the journey ----------------------------------------------------------------------


def _cursor(response: Any) -> str | None:
    """The `cursor` of the `Link: rel="next"` header, if any."""
    link = response.headers.get("link")
    if not link:
        return None
    url = re.match(r'<([^>]+)>;\s*rel="next"', link).group(1)
    return parse_qs(urlsplit(url).query)["cursor"][0]


def _pages(call: Callable[..., Any], **arguments: Any) -> tuple[list[Any], list[Any]]:
    """Every page of a list (the answers, and all items), following the cursor."""
    answers, items, cursor = [], [], None
    while True:
        answer = call(**arguments, **({"cursor": cursor} if cursor else {}))
        assert answer.status_code == HTTPStatus.OK, answer.content
        answers.append(answer)
        items.extend(answer.parsed)
        cursor = _cursor(answer)
        if cursor is None:
            return answers, items


def _send_and_read_reports(g: Generated, client: Any) -> None:
    create, get = g.module("api.reports.create_report"), g.module("api.reports.get_report")
    models = g.module("models")
    sent = []
    for n in range(3):
        body = models.Report.from_dict(stay_report(partner_reference=f"CLIENT-{n}"))
        answer = create.sync_detailed(client=client, body=body, idempotency_key=f"key-{n}")
        assert answer.status_code == HTTPStatus.CREATED, answer.content
        assert isinstance(answer.parsed, models.ReportReceipt)
        sent.append(answer.parsed.id)
    again = create.sync_detailed(
        client=client,
        body=models.Report.from_dict(stay_report(partner_reference="CLIENT-0")),
        idempotency_key="key-0",
    )
    assert again.headers["idempotent-replayed"] == "true"
    assert again.parsed.id == sent[0]

    stay = {**stay_report()["stay"], "check_out": "2026-11-01"}  # before check_in
    invalid = create.sync_detailed(
        client=client, body=models.Report.from_dict(stay_report(stay=stay))
    )
    assert invalid.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert isinstance(invalid.parsed, models.Problem)
    assert [error.pointer for error in invalid.parsed.errors] == ["#/stay/check_out"]

    read = get.sync(client=client, report_id=sent[1])
    assert (read.id, read.partner_reference, read.status.value) == (sent[1], "CLIENT-1", "received")

    pages, listed = _pages(
        g.module("api.reports.list_reports").sync_detailed, client=client, limit=2
    )
    assert len(pages) == 2
    assert sorted(report.id for report in listed) == sorted(sent)


def _sync_content(g: Generated, client: Any, editor: Any) -> None:
    """docs/content.md's loop: a full pull, cheap polls, then changes since the last one."""
    listing = g.module("api.content.list_content")
    hosts = g.module("models").ListContentAudience("hosts")

    def pull(**arguments: Any) -> tuple[list[Any], list[Any]]:
        return _pages(
            listing.sync_detailed, client=client, audience=hosts, locale="fr", limit=2, **arguments
        )

    pages, items = pull()
    copy = {item.id: item for item in items}
    assert len(pages) >= 2
    assert {item.status.value for item in items} == {"published"}
    assert {item.locale for item in items} == {"fr"}
    etag, mark = pages[0].headers["etag"], max(item.updated_at for item in items)

    unchanged = listing.sync_detailed(
        client=client, audience=hosts, locale="fr", limit=2, if_none_match=etag
    )
    assert unchanged.status_code == HTTPStatus.NOT_MODIFIED
    assert unchanged.content == b""

    retired = items[-1].id  # on the last page: the first page's ETag must go stale all the same
    done = g.module("api.content_admin.retire_content").sync_detailed(retired, client=editor)
    assert done.status_code == HTTPStatus.OK, done.content

    changed = listing.sync_detailed(
        client=client, audience=hosts, locale="fr", limit=2, if_none_match=etag
    )
    assert changed.status_code == HTTPStatus.OK
    _, changes = pull(updated_since=mark)
    assert [(item.id, item.status.value) for item in changes] == [(retired, "retired")]
    for item in changes:
        copy.pop(item.id)
    assert len(copy) == len(items) - 1


def _manage_an_endpoint(g: Generated, client: Any, receiver: Receiver) -> None:
    webhooks, models = "api.webhooks.", g.module("models")
    body = models.EndpointCreate(url=receiver.url, events=["webhook.test", "report.received"])
    created = g.module(webhooks + "create_webhook_endpoint").sync_detailed(client=client, body=body)
    assert created.status_code == HTTPStatus.CREATED, created.content
    endpoint, secret = created.parsed.id, created.parsed.secret
    receiver.secrets.append(secret)

    listed = g.module(webhooks + "list_webhook_endpoints").sync(client=client)
    assert [e.id for e in listed] == [endpoint]

    test = g.module(webhooks + "test_webhook_endpoint").sync_detailed(endpoint, client=client)
    assert test.status_code == HTTPStatus.ACCEPTED, test.content
    event_id = test.parsed.event_id
    receiver.wait_ids({event_id})
    (delivery,) = [d for d in receiver.deliveries if d.webhook_id == event_id]
    event = models.WebhookTestEvent.from_dict(
        Webhook(secret).verify(delivery.body, delivery.headers)
    )
    assert (event.type_.value, event.data.endpoint_id) == ("webhook.test", endpoint)

    deleted = g.module(webhooks + "delete_webhook_endpoint").sync_detailed(endpoint, client=client)
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    assert g.module(webhooks + "list_webhook_endpoints").sync(client=client) == []


def test_a_partner_journey_through_the_generated_client(
    app, database_url, generated, make_partner, make_staff, receivers, tmp_path
):
    """The accounts and the content are written straight into the suite's database (what
    `vigie partner create` and `vigie content load` do), which the server then uses."""
    partner, editor = make_partner("Gîtes Client Généré"), make_staff("editor")
    importing.load_seed(app.extensions["vigie"])
    receiver = receivers()
    settings = {
        "VIGIE_DATABASE_URL": database_url,  # the suite's engine: SQLite or PostgreSQL
        "VIGIE_WEBHOOK_ALLOW_PRIVATE": "true",
        "VIGIE_WORKER_POLL_SECONDS": "0.05",
    }
    with vigie_server(tmp_path, workers=1, env=settings, worker=True) as server:
        client = generated.package.AuthenticatedClient(
            base_url=server.url, token=partner["secret"], raise_on_unexpected_status=True
        )
        staff = generated.package.AuthenticatedClient(base_url=server.url, token=editor["secret"])
        with client, staff:
            _send_and_read_reports(generated, client)
            _sync_content(generated, client, staff)
            _manage_an_endpoint(generated, client, receiver)
