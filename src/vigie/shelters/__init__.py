"""Shelter directory, referrals (orientation) and shelter suggestions."""
