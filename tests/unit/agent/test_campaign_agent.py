"""The campaign agent on Academy's in-process local exchange, with real runtimes."""

from __future__ import annotations

import asyncio
import json

from academy.runtime import Runtime

from chia.agent import Envelope, FinishTurn, ScriptedPolicy, SendMessage, SubmitResult, TurnState
from chia.agent.campaign_agent import AgentSetup, CampaignAgent
from chia.campaign import CounterPolicy, Limits, load_campaign
from chia.events import EventWriter, MessageRejected, MessageSent, MessageUndelivered, iter_events
from chia.exchange import (
    ExchangeSettings,
    agent_id,
    open_factory,
    register_agent,
    runtime_config,
    user_client,
)
from chia.site.bootstrap import kickoff_envelope, send_envelope


async def _start(factory, tmp_path, name, peers, limits, run_id="unit", policy=None):
    spec = load_campaign("federated-chat").spec
    agent_spec = spec.agent(name).model_copy(update={"allowed_peers": peers})
    async with user_client(factory) as client:
        registration = await register_agent(client, CampaignAgent, run_id, name)
    writer = EventWriter(tmp_path / f"{name}.jsonl", run_id=run_id, site="s", writer=name)
    setup = AgentSetup(
        run_id=run_id,
        site="s",
        spec=agent_spec,
        task=spec.user_task,
        limits=limits,
        uid=str(registration.agent_id.uid),
        peers={p: agent_id(run_id, p) for p in peers},
        writer=writer,
        status_path=tmp_path / f"{name}.json",
    )
    policy = policy or ScriptedPolicy(CounterPolicy(kind="counter", target=4))
    agent = CampaignAgent(setup, policy)
    runtime = Runtime(
        agent, exchange_factory=factory, registration=registration, config=runtime_config()
    )
    await runtime.__aenter__()
    return agent, runtime


async def test_two_agents_play_to_the_target_and_stop(tmp_path):
    factory = open_factory(ExchangeSettings(kind="local"))
    limits = Limits(max_decisions=10, idle_timeout_s=30)
    a, ra = await _start(factory, tmp_path, "agent-aurora", ["agent-crux"], limits)
    b, rb = await _start(factory, tmp_path, "agent-crux", ["agent-aurora"], limits)
    a.mark_running()
    b.mark_running()
    async with user_client(factory) as _:
        spec = load_campaign("federated-chat").spec
        await send_envelope(kickoff_envelope(spec, "unit", "agent-aurora"), deadline_s=10)
    await asyncio.wait_for(asyncio.gather(ra.wait_shutdown(), rb.wait_shutdown()), 30)
    for runtime in (ra, rb):
        await runtime.__aexit__(None, None, None)
    status_a = json.loads((tmp_path / "agent-aurora.json").read_text())
    status_b = json.loads((tmp_path / "agent-crux.json").read_text())
    assert status_a["state"] == status_b["state"] == "finished"
    assert status_a["result"] == status_b["result"] == "counter = 4"
    assert status_a["messages_sent"] + status_b["messages_sent"] == 4


async def test_disallowed_recipient_is_rejected_not_sent(tmp_path):
    factory = open_factory(ExchangeSettings(kind="local"))
    limits = Limits(max_decisions=1, idle_timeout_s=30)
    # The scripted policy replies to the sender, who is not an allowed peer here.
    agent, runtime = await _start(
        factory, tmp_path, "agent-crux", ["agent-ghost"], limits, run_id="unit2"
    )
    agent.mark_running()
    async with user_client(factory):
        envelope = Envelope(
            run_id="unit2", sender="agent-aurora", recipient="agent-crux", content="counter = 1"
        )
        await send_envelope(envelope, deadline_s=10)
    await asyncio.wait_for(runtime.wait_shutdown(), 30)
    await runtime.__aexit__(None, None, None)
    events = list(iter_events([tmp_path / "agent-crux.jsonl"]))
    rejected = [e for e in events if isinstance(e, MessageRejected)]
    assert rejected and "not an allowed peer" in rejected[0].reason
    status = json.loads((tmp_path / "agent-crux.json").read_text())
    assert status["messages_sent"] == 0 and status["state"] == "finished"


async def test_idle_timeout_finishes_the_agent(tmp_path):
    factory = open_factory(ExchangeSettings(kind="local"))
    limits = Limits(max_decisions=5, idle_timeout_s=0.3)
    agent, runtime = await _start(factory, tmp_path, "agent-aurora", [], limits, run_id="unit3")
    agent.mark_running()
    await asyncio.wait_for(runtime.wait_shutdown(), 10)
    await runtime.__aexit__(None, None, None)
    kinds = [e.kind for e in iter_events([tmp_path / "agent-aurora.jsonl"])]
    assert kinds[-1] == "agent_finished"
    assert '"reason":"idle_timeout"' in (tmp_path / "agent-aurora.jsonl").read_text()


async def _until(condition, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


class _SendThenRecord:
    """Turn 1 sends to ``agent-ghost`` (never registered), turn 2 ends, turn 3 submits."""

    name = "record"

    def __init__(self) -> None:
        self.states: list[TurnState] = []

    async def decide(self, state: TurnState):
        self.states.append(state)
        if len(self.states) == 1:
            return [SendMessage(recipient="agent-ghost", content="hello?")]
        if len(self.states) == 2:
            return [FinishTurn()]
        return [SubmitResult(result="done")]


async def test_a_failed_delivery_is_reported_to_the_next_turn_once(tmp_path):
    factory = open_factory(ExchangeSettings(kind="local"))
    # The ghost never registers: retried (same message id) until the 1 s deadline.
    limits = Limits(max_decisions=5, idle_timeout_s=30, delivery_deadline_s=1)
    policy = _SendThenRecord()
    agent, runtime = await _start(
        factory, tmp_path, "agent-crux", ["agent-ghost"], limits, run_id="unit4", policy=policy
    )
    agent.mark_running()
    log = tmp_path / "agent-crux.jsonl"
    async with user_client(factory):
        for n in (1, 2, 3):  # one turn each: the next is sent once this one has decided
            message = Envelope(run_id="unit4", sender="op", recipient="agent-crux", content=str(n))
            await send_envelope(message, deadline_s=10)
            await _until(lambda n=n: log.read_text().count('"kind":"decision"') >= n)
            if n == 1:
                await _until(lambda: "message_undelivered" in log.read_text())
    await asyncio.wait_for(runtime.wait_shutdown(), 30)
    await runtime.__aexit__(None, None, None)
    first, second, third = policy.states
    assert first.undelivered == third.undelivered == []
    (failed,) = second.undelivered
    assert (failed.recipient, failed.round) == ("agent-ghost", 1)
    assert failed.reason.startswith("not acknowledged within 1s")
    events = list(iter_events([log]))
    (chat,) = [e for e in events if isinstance(e, MessageSent) and e.message_kind == "chat"]
    undelivered = [e for e in events if isinstance(e, MessageUndelivered)]
    (lost,) = [e for e in undelivered if e.message_id == chat.message_id]
    assert lost.reason == failed.reason
    assert lost.attempts > 1  # retried with the same id, not given up at the first failure
    # The completion notice to the ghost was retried to its deadline too, then settled.
    assert [e.recipient for e in undelivered] == ["agent-ghost", "agent-ghost"]
