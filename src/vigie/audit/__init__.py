"""Hash-chained, append-only audit log of staff actions."""
