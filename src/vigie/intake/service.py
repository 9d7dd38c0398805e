"""Reports in a partner's native format: the adapter maps, the reports service stores.

Every error names the partner's own fields: the adapter's errors already do, and the
canonical validation's errors are translated back through the adapter's origins.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from vigie import integrations
from vigie.crypto import Crypto
from vigie.errors import Conflict, Invalid, NotFound, flatten_messages
from vigie.integrations import BODY, InboundAdapter, Mapped, NativeError, pointer_parts
from vigie.reports import service as reports
from vigie.reports.models import Report
from vigie.reports.schemas import ReportSchema

INVALID = "The report has invalid fields."
NAME_SHOWN = 64  # characters of an unknown adapter name quoted back

_REPORT_SCHEMA = ReportSchema()


@lru_cache(maxsize=32)
def _installed(name: str) -> InboundAdapter:
    return integrations.load_adapter(name)


def adapter_named(name: str) -> InboundAdapter:
    """The installed inbound adapter `name`; 404 for anything else (forwarders included)."""
    try:
        return _installed(name)
    except integrations.NotInstalled:
        shown = name if len(name) <= NAME_SHOWN else name[:NAME_SHOWN] + "…"
        raise NotFound(f"No inbound adapter called {shown!r}.") from None


def dotted(native_pointer: str) -> str:
    """A native pointer as the `field` of an error: `/concerns/3` -> `concerns[3]`."""
    name = ""
    for part in pointer_parts(native_pointer):
        name += f"[{part}]" if part.isdigit() else (f".{part}" if name else part)
    return name or "(body)"


def field_error(error: NativeError) -> dict[str, Any]:
    """One error of the problem document, at the native field (`#` is the whole body)."""
    return {"field": dotted(error.pointer), "pointer": "#" + error.pointer, "detail": error.detail}


def _invalid(errors: list[NativeError]) -> Invalid:
    unique = list(dict.fromkeys(errors))  # two canonical errors may land on one native field
    return Invalid(INVALID, errors=[field_error(e) for e in unique])


def _canonical(adapter: InboundAdapter, native: Any) -> tuple[Mapped, dict[str, Any]]:
    """The adapter's mapping, validated as a canonical report; errors in native names."""
    try:
        mapped = adapter.to_canonical(native)
    except integrations.NativeInvalid as error:
        raise _invalid(error.errors or [NativeError(BODY, INVALID)]) from None
    try:
        data: dict[str, Any] = _REPORT_SCHEMA.load(mapped.report)
    except ValidationError as error:
        canonical = flatten_messages(error.messages)
        raise _invalid(
            [NativeError(mapped.native_field(e["field"]), e["detail"]) for e in canonical]
        ) from None
    return mapped, data


def create(
    *, session: Session, crypto: Crypto, partner_id: int, adapter: str, native: Any
) -> Report:
    """Map `native` with the adapter called `adapter` and store it as a report of the partner.

    The channel is `adapter:<name>`. The caller commits. A report whose reference the
    partner already used is a 409 naming the existing report, as on POST /v1/reports.
    """
    found = adapter_named(adapter)
    mapped, data = _canonical(found, native)
    try:
        return reports.create(
            session=session,
            crypto=crypto,
            partner_id=partner_id,
            data=data,
            channel=f"adapter:{found.name}",
        )
    except Conflict as conflict:
        native_field = dotted(mapped.native_field("partner_reference"))
        raise Conflict(
            f"A report with the reference {data['partner_reference']!r} (from {native_field}) "
            "was already received.",
            **conflict.extensions,
        ) from None
