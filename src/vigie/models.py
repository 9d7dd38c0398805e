"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from vigie.db import Base
from vigie.operators.models import Operator
from vigie.outbox.models import OutboxEvent
from vigie.partners.models import ApiKey, Partner
from vigie.periodic import PeriodicJobRun
from vigie.reports.models import Report
from vigie.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookDispatch, WebhookEndpoint

__all__ = [
    "ApiKey",
    "Base",
    "Operator",
    "OutboxEvent",
    "Partner",
    "PeriodicJobRun",
    "Report",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDispatch",
    "WebhookEndpoint",
]
