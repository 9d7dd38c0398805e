"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from vigie.audit.models import AuditEntry
from vigie.content.models import ContentItem, ContentPull, ContentState
from vigie.db import Base
from vigie.idempotency.models import IdempotencyKey
from vigie.operators.models import Operator
from vigie.outbox.models import OutboxEvent
from vigie.partners.models import ApiKey, Partner
from vigie.periodic import PeriodicJobRun
from vigie.reports.models import Report
from vigie.shelters.models import Shelter, ShelterNetwork
from vigie.triage.models import Note, Referral, Transition
from vigie.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookDispatch, WebhookEndpoint

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "ContentItem",
    "ContentPull",
    "ContentState",
    "IdempotencyKey",
    "Note",
    "Operator",
    "OutboxEvent",
    "Partner",
    "PeriodicJobRun",
    "Referral",
    "Report",
    "Shelter",
    "ShelterNetwork",
    "Transition",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDispatch",
    "WebhookEndpoint",
]
