from __future__ import annotations

from chia.agent import Envelope, FinishTurn, ScriptedPolicy, SendMessage, SubmitResult, TurnState
from chia.campaign import CounterPolicy


def _state(*messages: Envelope, peers=("b",)) -> TurnState:
    return TurnState(
        agent="a",
        role="r",
        mission="m",
        task="t",
        round=1,
        allowed_peers=list(peers),
        new_messages=list(messages),
    )


def _msg(content: str, kind: str = "chat", sender: str = "b") -> Envelope:
    return Envelope(run_id="r", sender=sender, recipient="a", content=content, kind=kind)


async def test_kickoff_sends_the_start_value_to_the_first_peer():
    policy = ScriptedPolicy(CounterPolicy(kind="counter", start=1, target=10))
    actions = await policy.decide(_state(_msg("go", kind="kickoff", sender="campaign")))
    assert actions == [SendMessage(recipient="b", content="counter = 1", tldr="counter = 1")]


async def test_receiver_adds_one_and_replies_to_the_sender():
    policy = ScriptedPolicy(CounterPolicy(kind="counter"))
    actions = await policy.decide(_state(_msg("counter = 4", sender="b")))
    assert isinstance(actions[0], SendMessage)
    assert (actions[0].recipient, actions[0].content) == ("b", "counter = 5")
    assert len(actions) == 1


async def test_reaching_the_target_sends_and_submits():
    policy = ScriptedPolicy(CounterPolicy(kind="counter", target=10))
    actions = await policy.decide(_state(_msg("counter = 9")))
    assert [a.action for a in actions] == ["send_message", "submit_result"]
    assert actions[1] == SubmitResult(result="counter = 10")


async def test_receiving_the_target_submits_without_replying():
    policy = ScriptedPolicy(CounterPolicy(kind="counter", target=10))
    assert await policy.decide(_state(_msg("counter = 10"))) == [
        SubmitResult(result="counter = 10")
    ]


async def test_custom_template_and_no_counter():
    policy = ScriptedPolicy(CounterPolicy(kind="counter", message="n is {counter}!"))
    assert policy.read_counter("n is 7! and n is 8!") == 8
    assert policy.read_counter("counter = 7") is None
    actions = await policy.decide(_state(_msg("hello")))
    assert isinstance(actions[0], FinishTurn)
    assert isinstance((await policy.decide(_state(_msg("n is 1!"), peers=())))[0], FinishTurn)
    assert policy.name == "scripted:counter"
