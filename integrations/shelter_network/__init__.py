"""Forwarding referrals to shelter networks (SIAO, national networks) and reading their answers.

The core finds `Forwarder` by its entry-point name, `shelter_network`; see README.md for what
is sent, field by field.
"""

from integrations.shelter_network.forwarder import OUTCOMES_PATH, Forwarder

__all__ = ["OUTCOMES_PATH", "Forwarder"]
