"""Indicators for the national plan's follow-up."""
