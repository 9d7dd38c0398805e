"""Idempotency-Key for POST endpoints (IETF httpapi idempotency-key-header draft)."""
