"""Deterministic agent identities, and registering an agent under its preset uid.

Agents on different sites find each other by uid, never by name (``discover()`` loses
names on every exchange but Local): ``agent_uid(run_id, agent) = uuid5(CHIA_NS,
f"{run_id}/{agent}")``. Anyone who knows the run id and the agent names can compute every
peer's address without a directory service.

Academy has no public call to register a chosen uid; :func:`register_agent` uses the
transport's own ``register_agent_as`` when it has one (chia's push and redis-fast
exchanges), else Academy's ``register_agent`` inside
:func:`chia.exchange.academy_seam.minting_preset_id`. The registration that comes back is
checked to carry the preset uid, so an Academy release that stops minting through
``AgentId.new`` fails loudly here instead of silently registering a random uid.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from chia.errors import ChiaUsageError
from chia.exchange.academy_seam import client_transport, minting_preset_id
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


def _preset_registrar(client: ExchangeClient[Any]) -> Any:
    """The transport's own ``register_agent_as(agent, agent_id)``, if it has one.

    chia's resilient wrapper is looked through (its ``inner``), so push and redis-fast
    register a preset uid as a first-class call.
    """
    transport = client_transport(client)
    transport = getattr(transport, "inner", transport)
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
        with minting_preset_id(aid):
            registration = await client.register_agent(agent_type, name=agent)
    if registration.agent_id.uid != aid.uid:
        raise RuntimeError(
            f"academy registered {registration.agent_id.uid} instead of the preset uid "
            f"{aid.uid}: the preset-uid seam in chia.exchange.academy_seam no longer holds"
        )
    return registration
