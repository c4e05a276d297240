"""Exchange selection, deterministic identities, registration, liveness, self-hosting.

Public API (everything else in this package is private):

* :mod:`~chia.exchange.settings`: ``ExchangeKind``, ``ExchangeSettings``, ``open_factory``.
* :mod:`~chia.exchange.serialization`: ``runtime_config`` (agents), ``json_only`` (users).
* :mod:`~chia.exchange.client`: ``user_client`` (a listening, JSON-only user client).
* :mod:`~chia.exchange.identity`: ``CHIA_NS``, ``agent_uid``, ``agent_id``,
  ``register_agent`` (preset uid on every exchange kind; refuses a live duplicate).
* :mod:`~chia.exchange.liveness`: ``wait_for_peers``, ``ping_agent``.
* :mod:`~chia.exchange.server`: ``ExchangeServer`` (self-hosted HTTP exchange).
* :mod:`~chia.exchange.resilience`: ``ResilientFactory`` (what ``open_factory`` returns
  for every kind but local: clients ride out exchange restarts), ``Backoff``,
  ``ExchangeUnreachableError``.
* :mod:`~chia.exchange.health`: ``watch_exchange`` (report outages to a landmark and an
  event writer), ``ExchangeHealth``, ``is_transient``.

Importing this package imports Academy lazily: only the functions that need it do.
"""

from __future__ import annotations

from chia.exchange.client import user_client
from chia.exchange.identity import CHIA_NS, agent_id, agent_uid, register_agent
from chia.exchange.liveness import DEFAULT_PEER_TIMEOUT_S, ping_agent, wait_for_peers
from chia.exchange.serialization import json_only, runtime_config
from chia.exchange.settings import ExchangeKind, ExchangeSettings, open_factory

__all__ = [
    "CHIA_NS",
    "DEFAULT_PEER_TIMEOUT_S",
    "ExchangeKind",
    "ExchangeSettings",
    "agent_id",
    "agent_uid",
    "json_only",
    "open_factory",
    "ping_agent",
    "register_agent",
    "runtime_config",
    "user_client",
    "wait_for_peers",
]
