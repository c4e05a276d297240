"""The kickoff: one message from the campaign to its initial agent, sent once.

Used by a site that hosts the initial agent (single-site runs) and by ``chia bootstrap``
(federated runs, once every site is up). Sending waits for the recipient's
acknowledgement, bounded by a timeout, and then returns: nothing waits for a reply.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from academy.handle import Handle

from chia.agent.envelope import KICKOFF_SENDER, Envelope
from chia.campaign.model import CampaignSpec
from chia.errors import PeerTimeoutError
from chia.exchange.client import user_client
from chia.exchange.identity import agent_id
from chia.exchange.liveness import wait_for_peers
from chia.exchange.settings import ExchangeSettings, open_factory

__all__ = ["bootstrap", "kickoff_envelope", "send_envelope"]


def kickoff_envelope(campaign: CampaignSpec, run_id: str, recipient: str) -> Envelope:
    """Build the kickoff: the user task, plus the campaign's resources if it has any."""
    content = campaign.user_task
    if campaign.resources:
        listing = [
            resource.model_dump(mode="json", exclude_none=True) for resource in campaign.resources
        ]
        content += "\n\nResources:\n" + json.dumps(listing, indent=2)
    return Envelope(
        run_id=run_id,
        sender=KICKOFF_SENDER,
        recipient=recipient,
        kind="kickoff",
        content=content,
        tldr="campaign kickoff",
        clock=1,
    )


async def send_envelope(envelope: Envelope, *, timeout_s: float) -> None:
    """Deliver ``envelope`` to its recipient's ``receive_message`` and await the ack.

    Must run inside an exchange client context (an agent runtime or ``user_client``).

    Raises:
        PeerTimeoutError: If the recipient did not acknowledge within ``timeout_s``.
    """
    handle: Handle[Any] = Handle(agent_id(envelope.run_id, envelope.recipient))
    try:
        await asyncio.wait_for(
            handle.action("receive_message", envelope.model_dump(mode="json")), timeout_s
        )
    except asyncio.TimeoutError:
        raise PeerTimeoutError(
            f"{envelope.recipient} (uid {handle.agent_id.uid}) did not acknowledge the "
            f"{envelope.kind} message within {timeout_s:g}s"
        ) from None


async def bootstrap(
    settings: ExchangeSettings,
    campaign: CampaignSpec,
    *,
    run_id: str,
    recipient: str | None = None,
    timeout_s: float = 600.0,
    on_up: Callable[[str], None] | None = None,
) -> Envelope:
    """Wait until the recipient answers a ping, send the kickoff once, and return it.

    Args:
        settings: The exchange every site of the run uses.
        campaign: The campaign (for the task and the default recipient).
        run_id: The run id the sites were spawned with.
        recipient: Who gets the kickoff; defaults to the campaign's initial agent.
        timeout_s: How long to wait for the recipient to come up.
        on_up: Called once the recipient answered.

    Raises:
        PeerTimeoutError: If the recipient never answered (the message names it).
    """
    target = recipient or campaign.initial_agent
    envelope = kickoff_envelope(campaign, run_id, target)
    async with user_client(open_factory(settings), name="bootstrap") as client:
        await wait_for_peers(
            client, {target: agent_id(run_id, target)}, timeout_s=timeout_s, on_up=on_up
        )
        await send_envelope(envelope, timeout_s=min(timeout_s, 60.0))
    return envelope
