"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from vigie.content.models import ContentItem, ContentPull, ContentState
from vigie.db import Base
from vigie.operators.models import Operator
from vigie.outbox.models import OutboxEvent
from vigie.partners.models import ApiKey, Partner
from vigie.reports.models import Report

__all__ = [
    "ApiKey",
    "Base",
    "ContentItem",
    "ContentPull",
    "ContentState",
    "Operator",
    "OutboxEvent",
    "Partner",
    "Report",
]
