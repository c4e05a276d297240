"""A message sent while its recipient is down reaches the restarted recipient, once.

On every exchange kind: the recipient stops without terminating its mailbox (as a killed
process would), a message is sent to it, and it is registered again under the same uid
and started. Academy differs per backend here: Redis and local keep the request queued
in the mailbox, HTTP drops it. Either way the sender's retries (same message id) get it
acknowledged, and the receiver's dedupe (its ids survive a restart through the journal,
stood in for here by one set shared by both incarnations) logs it exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from academy.agent import Agent, action
from academy.runtime import Runtime

from chia.agent import Envelope
from chia.agent.delivery import DeliveryPolicy, Receiver, deliver
from chia.events import EventWriter, Note
from chia.events.durability import GroupCommit
from chia.exchange import (
    ExchangeSettings,
    open_factory,
    register_agent,
    runtime_config,
    user_client,
)

KINDS = ["local", "redis", "hybrid", "http"]
FAST = DeliveryPolicy(deadline_s=30, attempt_timeout_s=0.5, backoff_s=0.05)


class Recipient(Agent):
    """Receives under the contract; what it logs goes to a list shared by incarnations."""

    def __init__(self, writer: EventWriter, logged: list[str], seen: set[str]) -> None:
        super().__init__()
        self.receiver = Receiver("agent-crux", self._log, GroupCommit(writer), seen=seen)
        self._logged, self._seen, self._writer = logged, seen, writer

    def _log(self, message: Envelope) -> None:
        self._writer.emit(Note, message=message.message_id)
        self._logged.append(message.message_id)
        self._seen.add(message.message_id)

    @action
    async def receive_message(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Accept one envelope."""
        return (await self.receiver.accept(envelope)).as_json()


@pytest.fixture(params=KINDS)
def settings(request, redis, http_server) -> ExchangeSettings:
    if request.param == "http":
        return http_server.settings()
    if request.param in ("redis", "hybrid"):
        extra = {"hybrid_interface": "lo"} if request.param == "hybrid" else {}
        return ExchangeSettings(kind=request.param, redis_port=redis.port, redis_db=5, **extra)
    return ExchangeSettings(kind="local")


async def test_a_message_sent_while_down_arrives_once_after_the_restart(settings, tmp_path):
    factory = open_factory(settings)
    run_id = f"down-{uuid.uuid4().hex[:8]}"
    writer = EventWriter(tmp_path / "crux.jsonl", run_id=run_id, site="s", writer="agent-crux")
    logged: list[str] = []
    seen: set[str] = set()

    async def incarnation(**registration_options: Any) -> Runtime[Any]:
        async with user_client(factory) as client:
            registration = await register_agent(
                client, Recipient, run_id, "agent-crux", **registration_options
            )
        runtime = Runtime(
            Recipient(writer, logged, seen),
            exchange_factory=factory,
            registration=registration,
            config=runtime_config(),
        )
        await runtime.__aenter__()
        return runtime

    first = await incarnation()
    await first.__aexit__(None, None, None)  # down, its mailbox kept (never terminated)
    message = Envelope(run_id=run_id, sender="agent-aurora", recipient="agent-crux", content="x")
    async with user_client(factory):
        sending = asyncio.ensure_future(deliver(message, FAST))
        await asyncio.sleep(1.0)  # attempts go unanswered: nobody reads the mailbox
        second = await incarnation(check_live=False)  # the supervisor's restart
        outcome = await asyncio.wait_for(sending, 30)
        await asyncio.sleep(0.5)  # a queued copy, if the backend kept one, arrives too
    await second.__aexit__(None, None, None)
    writer.close()
    assert outcome.acked, outcome
    assert logged == [message.message_id]
