"""Intake: reports sent in a partner's native format, mapped by its inbound adapter, then
stored by the very service behind POST /v1/reports (channel `adapter:<name>`)."""
