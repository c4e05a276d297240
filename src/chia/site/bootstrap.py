"""The kickoff: one message from the campaign to its initial agent, sent once.

Used by a site that hosts the initial agent (single-site runs) and by ``chia bootstrap``
(federated runs, once every site is up). Sending follows the delivery contract
(:mod:`chia.agent.delivery`): retried until the recipient acknowledges it, bounded by a
deadline, and then it returns: nothing waits for a reply. The kickoff's message id is
derived from the run and the recipient, so a second bootstrap, or a restarted initial
agent's site sending it again, is dropped by the recipient as a duplicate.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from chia.agent.delivery import DeliveryPolicy, deliver
from chia.agent.envelope import KICKOFF_SENDER, Envelope
from chia.campaign.model import CampaignSpec
from chia.errors import PeerTimeoutError
from chia.exchange.client import user_client
from chia.exchange.identity import CHIA_NS, agent_id, agent_uid
from chia.exchange.liveness import wait_for_peers
from chia.exchange.settings import ExchangeSettings, open_factory
from chia.timeouts import PEER_TIMEOUT_S

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
        message_id=uuid.uuid5(CHIA_NS, f"{run_id}/kickoff/{recipient}").hex,
        run_id=run_id,
        sender=KICKOFF_SENDER,
        recipient=recipient,
        kind="kickoff",
        content=content,
        tldr="campaign kickoff",
        clock=1,
    )


async def send_envelope(envelope: Envelope, *, deadline_s: float) -> int:
    """Deliver ``envelope`` under the delivery contract and return the attempts it took.

    Must run inside an exchange client context (an agent runtime or ``user_client``).

    Raises:
        PeerTimeoutError: If the recipient did not acknowledge it within ``deadline_s``
            (or refused it); the message names the recipient and its uid.
    """
    outcome = await deliver(envelope, DeliveryPolicy(deadline_s=deadline_s))
    if not outcome.acked:
        uid = agent_uid(envelope.run_id, envelope.recipient)
        raise PeerTimeoutError(
            f"{envelope.recipient} (uid {uid}) did not acknowledge the {envelope.kind} "
            f"message: {outcome.reason}",
            missing={envelope.recipient: outcome.reason},
            timeout_s=deadline_s,
        )
    return outcome.attempts


async def bootstrap(
    settings: ExchangeSettings,
    campaign: CampaignSpec,
    *,
    run_id: str,
    recipient: str | None = None,
    timeout_s: float = PEER_TIMEOUT_S,
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
        await send_envelope(envelope, deadline_s=timeout_s)
    return envelope
