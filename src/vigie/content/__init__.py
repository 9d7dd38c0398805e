"""Awareness content: what trafficking looks like, what to do, whom to call."""
