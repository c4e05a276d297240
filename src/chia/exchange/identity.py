"""Deterministic agent identities, and registering an agent under its preset uid.

Agents on different sites find each other by uid, never by name (``discover()`` loses
names on every exchange but Local): ``agent_uid(run_id, agent) = uuid5(CHIA_NS,
f"{run_id}/{agent}")``. Anyone who knows the run id and the agent names can compute every
peer's address without a directory service.

Academy 1.0.0 has no public call to register a chosen uid: every transport's
``register_agent`` mints ``AgentId.new(name=...)`` (Local, Redis, Hybrid, HTTP alike) and
then creates the mailbox for that id. The seam used here is that one call:
:func:`register_agent` sets a context variable for the duration of one
``client.register_agent`` call, and ``AgentId.new`` (wrapped once, the first time this
module registers anything) returns the preset id while that variable is set. A transport
that takes a preset id itself (the push exchange's ``register_agent_as``) is called
directly instead, with no seam. Outside a seamed
call the wrapper is exactly Academy's ``AgentId.new``. Being a context variable, it is
task-local: concurrent registrations in other tasks are unaffected. The registration that
comes back is checked to carry the preset uid, so an Academy release that stops minting
through ``AgentId.new`` fails loudly here instead of silently registering a random uid.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from chia.errors import ChiaUsageError
from chia.exchange.liveness import ping_agent
from chia.names import check_name

if TYPE_CHECKING:
    from academy.agent import Agent
    from academy.exchange import ExchangeClient
    from academy.exchange.transport import AgentRegistration
    from academy.identifier import AgentId

__all__ = ["CHIA_NS", "agent_id", "agent_uid", "register_agent"]

#: The fixed namespace of every chia agent uid. Never change it: uids computed by older
#: and newer chia versions (on different sites of one run) must agree.
#: It is ``uuid5(NAMESPACE_URL, "https://chia.invalid/agent-uid/v1")``.
CHIA_NS = uuid.UUID("e74768ec-4a1d-5873-b92d-3dfe6c1f2004")

_PRESET: ContextVar[AgentId[Any] | None] = ContextVar("chia_preset_agent_id", default=None)
_SEAM_FLAG = "_chia_preset_uid_seam"


def agent_uid(run_id: str, agent: str) -> uuid.UUID:
    """Return the deterministic uid of ``agent`` in run ``run_id``.

    Raises:
        ChiaUsageError: If the run id or agent name is not a valid name.
    """
    check_name(run_id, "run id")
    check_name(agent, "agent")
    return uuid.uuid5(CHIA_NS, f"{run_id}/{agent}")


def agent_id(run_id: str, agent: str) -> AgentId[Any]:
    """Return the Academy ``AgentId`` of ``agent`` in run ``run_id`` (named ``agent``)."""
    from academy.identifier import AgentId

    return AgentId(uid=agent_uid(run_id, agent), name=agent)


def _install_seam() -> None:
    """Wrap ``AgentId.new`` once so it honours ``_PRESET`` (see the module docstring)."""
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


def _preset_registrar(client: ExchangeClient[Any]) -> Any:
    """The transport's own ``register_agent_as(agent, agent_id)``, if it has one (push).

    Academy's client has no public accessor for its transport; chia's resilient wrapper
    is looked through (its ``_inner``), so the push exchange registers a preset uid as a
    first-class call instead of through the ``AgentId.new`` seam.
    """
    transport = getattr(client, "_transport", None)
    transport = getattr(transport, "_inner", transport)
    return getattr(transport, "register_agent_as", None)


async def register_agent(
    client: ExchangeClient[Any],
    agent_type: type[Agent],
    run_id: str,
    agent: str,
    *,
    live_check_timeout_s: float = 2.0,
    check_live: bool = True,
) -> AgentRegistration[Any]:
    """Register ``agent`` of run ``run_id`` under its deterministic uid, on any exchange.

    Works on every exchange kind (local, redis, hybrid, http). Re-registering the uid of
    a stale mailbox (a crashed or stopped earlier incarnation) is allowed and keeps any
    messages queued there; registering the uid of an agent that still answers a ping is
    refused, fast.

    Args:
        client: An open exchange client of the same exchange (a user client).
        agent_type: The agent class (its MRO is recorded for ``discover``).
        run_id: The run id.
        agent: The agent name.
        live_check_timeout_s: How long to wait for an existing agent to answer a ping
            before treating its mailbox as stale.
        check_live: Ping an existing mailbox's agent first. A supervisor restarting an
            agent it saw die passes False: the old incarnation is known to be gone, and
            the ping would only delay the restart by its timeout.

    Returns:
        The Academy registration to pass to ``Runtime(..., registration=...)`` or
        ``Manager.launch(..., registration=...)``.

    Raises:
        ChiaUsageError: If that agent is live (another run with the same run id is
            active?), or its mailbox was terminated (the uid cannot be reused).
        RuntimeError: If Academy did not register the preset uid (the seam broke).
    """
    from academy.exchange.mailbox_status import MailboxStatus

    aid = agent_id(run_id, agent)
    status = await client.status(aid)
    if status == MailboxStatus.TERMINATED:
        raise ChiaUsageError(
            f"agent {agent!r} of run {run_id!r} (uid {aid.uid}) has a terminated mailbox "
            "on this exchange and its uid cannot be reused; pick a new run id"
        )
    if check_live and status != MailboxStatus.MISSING:
        rtt = await ping_agent(client, aid, timeout_s=live_check_timeout_s)
        if rtt is not None:
            raise ChiaUsageError(
                f"agent {agent!r} of run {run_id!r} (uid {aid.uid}) is already live on this "
                "exchange: another run with the same run id is active?"
            )
    registrar = _preset_registrar(client)
    if registrar is not None:
        registration: AgentRegistration[Any] = await registrar(agent_type, aid)
    else:
        _install_seam()
        token = _PRESET.set(aid)
        try:
            registration = await client.register_agent(agent_type, name=agent)
        finally:
            _PRESET.reset(token)
    if registration.agent_id.uid != aid.uid:
        raise RuntimeError(
            f"academy registered {registration.agent_id.uid} instead of the preset uid "
            f"{aid.uid}: the preset-uid seam in chia.exchange.identity no longer holds"
        )
    return registration
