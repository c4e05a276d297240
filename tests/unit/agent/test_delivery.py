"""The delivery contract on Academy's local exchange, with real runtimes."""

from __future__ import annotations

import asyncio
from typing import Any

from academy.agent import Agent, action
from academy.runtime import Runtime

from chia.agent import Envelope
from chia.agent.delivery import DeliveryPolicy, Outbox, Receiver, deliver
from chia.events import EventWriter, MessageReceived, iter_events
from chia.events.durability import GroupCommit
from chia.exchange import (
    ExchangeSettings,
    open_factory,
    register_agent,
    runtime_config,
    user_client,
)

FAST = DeliveryPolicy(deadline_s=10, attempt_timeout_s=0.5, backoff_s=0.02)


class Inbox(Agent):
    """Receives under the contract and keeps what it logged, in order."""

    def __init__(self, writer: EventWriter, refuse: bool = False) -> None:
        super().__init__()
        self.logged: list[str] = []
        self.writer = writer
        self.refuse = refuse
        self.receiver = Receiver("agent-crux", self._log, GroupCommit(writer, "batch"))

    def _log(self, message: Envelope) -> None:
        self.writer.emit(
            MessageReceived,
            message_id=message.message_id,
            sender=message.sender,
            recipient=message.recipient,
            message_kind=message.kind,
            round=message.round,
        )
        self.logged.append(message.message_id)

    @action
    async def receive_message(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Accept one envelope."""
        if self.refuse:
            raise ValueError("not today")
        return (await self.receiver.accept(envelope)).as_json()


def _envelope(content: str = "hello", kind: str = "chat") -> Envelope:
    return Envelope(
        run_id="d", sender="agent-aurora", recipient="agent-crux", content=content, kind=kind
    )


async def _host(factory, tmp_path, **kwargs):
    async with user_client(factory) as client:
        registration = await register_agent(client, Inbox, "d", "agent-crux")
    writer = EventWriter(tmp_path / "crux.jsonl", run_id="d", site="s", writer="agent-crux")
    agent = Inbox(writer, **kwargs)
    runtime = Runtime(
        agent, exchange_factory=factory, registration=registration, config=runtime_config()
    )
    await runtime.__aenter__()
    return agent, runtime


async def test_a_retry_is_acknowledged_but_logged_once(tmp_path):
    factory = open_factory(ExchangeSettings(kind="local"))
    agent, runtime = await _host(factory, tmp_path)
    message = _envelope()
    async with user_client(factory):
        first = await deliver(message, FAST)
        again = await deliver(message, FAST)  # as a sender whose ack was lost would
    await runtime.__aexit__(None, None, None)
    assert first.acked and again.acked
    assert agent.logged == [message.message_id]
    assert agent.receiver.duplicates == 1
    assert len(list(iter_events([tmp_path / "crux.jsonl"]))) == 1


async def test_a_recipient_that_registers_late_still_gets_it(tmp_path):
    factory = open_factory(ExchangeSettings(kind="local"))
    message = _envelope()
    async with user_client(factory):
        sending = asyncio.ensure_future(deliver(message, FAST))
        await asyncio.sleep(0.3)  # attempts fail: nobody is registered yet
        agent, runtime = await _host(factory, tmp_path)
        outcome = await asyncio.wait_for(sending, 10)
    await runtime.__aexit__(None, None, None)
    assert outcome.acked and outcome.attempts > 1
    assert agent.logged == [message.message_id]


async def test_a_refused_message_is_not_retried(tmp_path):
    factory = open_factory(ExchangeSettings(kind="local"))
    _, runtime = await _host(factory, tmp_path, refuse=True)
    async with user_client(factory):
        outcome = await deliver(_envelope(), FAST)
    await runtime.__aexit__(None, None, None)
    assert not outcome.acked and outcome.attempts == 1
    assert outcome.reason.startswith("rejected: ") and "not today" in outcome.reason


async def test_the_deadline_ends_retries_and_a_moot_message_stops_early(tmp_path):
    factory = open_factory(ExchangeSettings(kind="local"))
    async with user_client(factory):
        late = await deliver(_envelope(), DeliveryPolicy(deadline_s=0.3, backoff_s=0.02))
        needed = iter([True, False])
        moot = await deliver(_envelope(), FAST, still_needed=lambda: next(needed))
    assert not late.acked and late.reason.startswith("not acknowledged within 0.3s")
    assert moot.moot and moot.attempts == 2


async def test_a_completion_notice_leaves_after_the_messages_before_it(tmp_path):
    factory = open_factory(ExchangeSettings(kind="local"))
    done: list[str] = []

    async def record(envelope: Envelope, outcome) -> None:
        done.append(envelope.content)

    async with user_client(factory):
        outbox = Outbox(FAST, record)
        outbox.submit(_envelope("chat 1"))
        outbox.submit(_envelope("chat 2"))
        notice = _envelope("the end", kind="complete")
        outbox.submit(notice)
        await asyncio.sleep(0.2)  # nobody there yet: all three are retrying
        agent, runtime = await _host(factory, tmp_path)
        await asyncio.wait_for(outbox.drain(), 10)
    await runtime.__aexit__(None, None, None)
    assert done[-1] == "the end" and sorted(done[:2]) == ["chat 1", "chat 2"]
    assert agent.logged[-1] == notice.message_id and len(agent.logged) == 3
