"""The triage queue: claims, status moves, notes, related reports, periodic jobs."""
