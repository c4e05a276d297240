"""Liveness: a peer is up only when its running agent answers a ping.

A mailbox that exists proves nothing: a crashed run leaves its mailboxes (and, for up to
three heartbeat periods, a fresh heartbeat) behind. Academy's ``Handle.ping`` is the
proof we use: the ping is answered by the peer's ``Runtime`` itself, and only after the
agent's startup sequence has finished (an assumption about Academy, kept and tested in
:mod:`chia.exchange.academy_seam`), so an answer means a running agent is reading that
mailbox right now. A ping to a stale
mailbox is queued and never answered (or, on HTTP, dropped), so it times out.

Caveat for agent authors: an agent answers pings only once ``agent_on_startup`` has
returned. Never wait for peers inside ``agent_on_startup``: every site would wait for
the others' startup to finish, forever. Wait from the host process after the runtime is
up, or from a ``@loop``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chia.errors import PeerTimeoutError
from chia.timeouts import PEER_TIMEOUT_S

if TYPE_CHECKING:
    from academy.exchange import ExchangeClient
    from academy.handle import Handle
    from academy.identifier import AgentId

__all__ = ["DEFAULT_PEER_TIMEOUT_S", "ping_agent", "wait_for_peers"]

#: Default wait for peers: batch queues are slow.
DEFAULT_PEER_TIMEOUT_S = PEER_TIMEOUT_S
#: How long the first ping of a wait waits; each next one waits twice as long.
FIRST_PING_TIMEOUT_S = 0.5


@dataclass
class _PeerState:
    """What the wait last learned about one peer (used to explain a timeout)."""

    aid: AgentId[Any]
    reason: str = "not polled yet"
    rtt_s: float | None = None


async def ping_agent(
    client: ExchangeClient[Any], aid: AgentId[Any], *, timeout_s: float = 2.0
) -> float | None:
    """Ping one agent once.

    Args:
        client: An open exchange client (a user client or an agent's own client).
        aid: The agent to ping.
        timeout_s: How long to wait for the answer.

    Returns:
        The round-trip time in seconds if the running agent answered, else ``None``
        (no mailbox, terminated mailbox, stale mailbox, or exchange unreachable).
    """
    rtt, _ = await _ping(_handle(client, aid), timeout_s)
    return rtt


def _handle(client: ExchangeClient[Any], aid: AgentId[Any]) -> Handle[Any]:
    from academy.handle import Handle

    # ignore_context: use exactly this client, whatever the task's exchange context is.
    return Handle(aid, exchange=client, ignore_context=True)


async def _ping(handle: Handle[Any], timeout_s: float) -> tuple[float | None, str]:
    """Ping through ``handle``; return (rtt or None, why the agent is not up)."""
    from academy.exception import BadEntityIdError, ExchangeError, MailboxTerminatedError
    from academy.socket import SocketOpenError

    try:
        return await handle.ping(timeout=timeout_s), ""
    except (TimeoutError, asyncio.TimeoutError):
        return None, f"mailbox exists but no running agent answered a ping within {timeout_s:g}s"
    except BadEntityIdError:
        return None, "not registered on the exchange"
    except MailboxTerminatedError:
        return None, "mailbox terminated (the agent shut down)"
    except SocketOpenError:
        # Hybrid exchange: the peer's direct-TCP address is cached but nobody listens
        # there any more (academy 1.0.0 raises instead of falling back to Redis).
        return None, "its last known direct address refuses connections (process gone?)"
    except (ExchangeError, OSError) as exc:
        return None, f"exchange error: {type(exc).__name__}: {exc}"


async def _wait_one(
    client: ExchangeClient[Any],
    name: str,
    state: _PeerState,
    *,
    ping_timeout_s: float,
    poll_s: float,
    on_up: Callable[[str], None] | None,
) -> None:
    # One handle per peer for the whole wait: a late answer to an earlier, timed-out
    # ping then lands on a known handle instead of a logged "unexpected response".
    handle = _handle(client, state.aid)
    # The first pings wait briefly and later ones longer: the answer to a restarted
    # agent's first ping can be lost (an exchange may still push it to the dead
    # incarnation's connection), and a long first wait would delay its recovery.
    timeout = min(ping_timeout_s, FIRST_PING_TIMEOUT_S)
    while True:
        started = time.monotonic()
        rtt, reason = await _ping(handle, timeout)
        timeout = min(ping_timeout_s, timeout * 2)
        if rtt is not None:
            state.rtt_s, state.reason = rtt, ""
            if on_up is not None:
                on_up(name)
            return
        state.reason = reason
        await asyncio.sleep(max(0.0, poll_s - (time.monotonic() - started)))


async def wait_for_peers(
    client: ExchangeClient[Any],
    peers: Mapping[str, AgentId[Any]],
    *,
    timeout_s: float = DEFAULT_PEER_TIMEOUT_S,
    poll_s: float = 1.0,
    ping_timeout_s: float = 2.0,
    on_up: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Wait until every peer's running agent answers a ping.

    Peers are polled concurrently, each at most once per ``poll_s``; a peer counts as up
    at its first answered ping and is not polled again.

    Args:
        client: An open exchange client (user client inside ``async with``, or the
            calling agent's own client).
        peers: Peer name (agent name, used in messages) to its AgentId.
        timeout_s: Give up after this many seconds (a flag: batch queues are slow).
        poll_s: Period between ping attempts to a peer that is not up yet.
        ping_timeout_s: The longest one ping waits for its answer (the first waits
            ``FIRST_PING_TIMEOUT_S``, each next one twice as long up to this).
        on_up: Called with the peer name once, as soon as that peer answers (for the
            "peer X up" landmark line).

    Returns:
        Peer name to the round-trip time (seconds) of its first answered ping.

    Raises:
        PeerTimeoutError: If some peers never answered; the message names each missing
            peer, its uid, and the last reason it was not up.
    """
    states = {name: _PeerState(aid) for name, aid in peers.items()}
    tasks = [
        asyncio.create_task(
            _wait_one(
                client,
                name,
                state,
                ping_timeout_s=ping_timeout_s,
                poll_s=poll_s,
                on_up=on_up,
            ),
            name=f"chia-wait-peer-{name}",
        )
        for name, state in states.items()
    ]
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    missing = {name: state for name, state in states.items() if state.rtt_s is None}
    if missing:
        lines = "; ".join(
            f"{name} (uid {state.aid.uid}): {state.reason}" for name, state in missing.items()
        )
        raise PeerTimeoutError(
            f"{len(missing)} of {len(states)} peer(s) did not answer a ping within "
            f"{timeout_s:g}s: {lines}",
            missing={name: state.reason for name, state in missing.items()},
            timeout_s=timeout_s,
        )
    return {name: state.rtt_s for name, state in states.items() if state.rtt_s is not None}
