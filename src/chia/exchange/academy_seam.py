"""Everything chia assumes about Academy beyond its documented API, in one place.

chia builds on academy-py's public API (agents, actions, handles, exchange factories and
transports, ``Runtime``, serialization settings). Where it needs more, the assumption is
made here and only here, each with its own test in ``tests/unit/exchange/
test_academy_seam.py`` that fails loudly when an Academy release breaks it. Checked
against :data:`ACADEMY_VERSIONS_CHECKED`.

The assumptions:

1. **Transports mint agent ids through** ``AgentId.new``. Academy has no public call to
   register a chosen uid: every transport's ``register_agent`` (Local, Redis, Hybrid,
   HTTP) mints ``AgentId.new(name=...)`` and creates that id's mailbox.
   :func:`minting_preset_id` makes ``AgentId.new`` return a preset id for the duration of
   one call (a task-local context variable; outside it, the wrapper is exactly Academy's).
2. **An exchange client keeps its transport in** ``_transport``: :func:`client_transport`
   (to reach a transport's own first-class calls, e.g. push's ``register_agent_as``).
3. **An agent class lists its MRO with** ``_agent_mro()`` (what ``discover`` matches and
   what Academy's transports record at registration): :func:`agent_mro`, for chia's own
   transports.
4. **A factory mints transports in** ``_create_transport(mailbox_id, *, name,
   registration)``, the hook Academy's factories override: :func:`create_transport`, for a
   factory that wraps another.
5. **The exchange server keeps its mailbox backend under** ``MANAGER_KEY`` of its aiohttp
   app, and a Redis backend its redis-py client in ``_client``:
   :func:`server_backend`, :func:`replace_server_backend`, :func:`backend_redis_client`.
6. **A ping is answered by the peer's** ``Runtime`` **only once the agent's startup has
   finished** (``Handle.ping``): an answer proves a running agent reads that mailbox
   (:mod:`chia.exchange.liveness` relies on it).
7. **Academy's listener fails on a second response to one request** (``KeyError`` in its
   response map), so a retried ``listen`` must drop a redelivered response
   (:mod:`chia.exchange.resilience` does).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from academy.agent import Agent
    from academy.exchange import ExchangeClient, ExchangeFactory
    from academy.exchange.transport import AgentRegistration, ExchangeTransport
    from academy.identifier import AgentId, EntityId

__all__ = [
    "ACADEMY_VERSIONS_CHECKED",
    "agent_mro",
    "backend_redis_client",
    "client_transport",
    "create_transport",
    "minting_preset_id",
    "replace_server_backend",
    "server_backend",
]

#: The academy-py releases these assumptions were checked against (a test fails on any
#: other, so an upgrade re-checks them on purpose).
ACADEMY_VERSIONS_CHECKED = ("1.0.0",)

_PRESET: ContextVar[AgentId[Any] | None] = ContextVar("chia_preset_agent_id", default=None)
_SEAM_FLAG = "_chia_preset_uid_seam"


def _install_preset_seam() -> None:
    """Wrap ``AgentId.new`` once so that it honours ``_PRESET`` (assumption 1)."""
    from academy.identifier import AgentId

    if getattr(AgentId, _SEAM_FLAG, False):
        return
    original = AgentId.__dict__["new"].__func__

    def new(cls: type[AgentId[Any]], name: str | None = None) -> AgentId[Any]:
        preset = _PRESET.get()
        if preset is None:
            return original(cls, name)  # type: ignore[no-any-return]
        return cls(uid=preset.uid, name=preset.name)

    new.__doc__ = original.__doc__
    AgentId.new = classmethod(new)  # type: ignore[method-assign,assignment]
    setattr(AgentId, _SEAM_FLAG, True)


@contextlib.contextmanager
def minting_preset_id(agent_id: AgentId[Any]) -> Iterator[None]:
    """Make ``AgentId.new`` return ``agent_id`` in this task while the block runs.

    Wrap exactly one ``client.register_agent(...)`` call with it; the caller checks that
    the registration carries the preset uid (the assumption is then verified every time).
    """
    _install_preset_seam()
    token = _PRESET.set(agent_id)
    try:
        yield
    finally:
        _PRESET.reset(token)


def client_transport(client: ExchangeClient[Any]) -> ExchangeTransport[Any] | None:
    """The transport an Academy exchange client talks through (assumption 2)."""
    return getattr(client, "_transport", None)


def agent_mro(agent_type: type[Agent]) -> list[str]:
    """The qualified class names ``discover`` matches for ``agent_type`` (assumption 3)."""
    return list(agent_type._agent_mro())


async def create_transport(
    factory: ExchangeFactory[Any],
    mailbox_id: EntityId | None = None,
    *,
    name: str | None = None,
    registration: AgentRegistration[Any] | None = None,
) -> ExchangeTransport[Any]:
    """Mint a transport from ``factory`` as its clients do (assumption 4)."""
    transport: ExchangeTransport[Any] = await factory._create_transport(
        mailbox_id, name=name, registration=registration
    )
    return transport


def server_backend(app: Any) -> Any:
    """The mailbox backend of an app from ``academy.exchange.cloud.app.create_app``."""
    from academy.exchange.cloud.app import MANAGER_KEY

    return app[MANAGER_KEY]


def replace_server_backend(app: Any, backend: Any) -> None:
    """Serve the app's requests from ``backend`` instead (before the app starts)."""
    from academy.exchange.cloud.app import MANAGER_KEY

    app[MANAGER_KEY] = backend


def backend_redis_client(backend: Any) -> Any | None:
    """The redis-py client of the server's Redis backend, or None for other backends."""
    return getattr(backend, "_client", None)
