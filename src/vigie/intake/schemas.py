"""The request body of an adapter: the partner's native payload, read by the adapter only."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema


class NativeReportSchema(Schema):
    """Any JSON object: its fields are the partner's, documented with its adapter."""

    error_messages = {"type": "Must be a JSON object."}

    class Meta:
        unknown = INCLUDE
