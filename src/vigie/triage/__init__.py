"""Triage of reports: queue, claims, status moves, notes, related reports, referrals, jobs."""
