"""Vigie: partner reporting API for MIPROF."""
