"""The long waits chia allows by default, each written once.

They are minutes, not seconds, on purpose: an HPC batch queue can start one site long
after another, and an exchange can be restarted under a running campaign.
"""

from __future__ import annotations

__all__ = ["DELIVERY_DEADLINE_S", "EXCHANGE_OUTAGE_S", "PEER_TIMEOUT_S"]

PEER_TIMEOUT_S = 600.0
"""How long to wait for a peer (or a bootstrap's recipient) to answer its first ping."""

DELIVERY_DEADLINE_S = 600.0
"""How long a message is resent (same id) before it is reported undelivered."""

EXCHANGE_OUTAGE_S = 600.0
"""How long an exchange that answered before may stay away before an agent gives up."""
