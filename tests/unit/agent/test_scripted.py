from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from chia.agent import Envelope, FinishTurn, ScriptedPolicy, SendMessage, SubmitResult, TurnState
from chia.agent.journal import recover
from chia.agent.scripted import BallsScriptedPolicy, scripted_policy
from chia.campaign import BallsPolicy, CounterPolicy, load_campaign
from chia.events import Decision, EventWriter


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


# -- the balls game ------------------------------------------------------------------------


def _balls(balls: int = 3, target: int = 4) -> BallsScriptedPolicy:
    return BallsScriptedPolicy(BallsPolicy(kind="balls", balls=balls, target=target))


def _ball(ball: int, value: int, sender: str = "b") -> Envelope:
    return _msg(f"ball {ball} = {value}", sender=sender)


async def test_kickoff_throws_every_ball_to_the_first_peer():
    actions = await _balls(3).decide(_state(_msg("go", kind="kickoff", sender="campaign")))
    assert [(a.recipient, a.content) for a in actions if isinstance(a, SendMessage)] == [
        ("b", "ball 0 = 0"),
        ("b", "ball 1 = 0"),
        ("b", "ball 2 = 0"),
    ]


async def test_a_batch_bounces_each_ball_to_its_sender_and_retires_at_the_target():
    policy = _balls(balls=3, target=4)
    actions = await policy.decide(_state(_ball(0, 1), _ball(1, 3, sender="c"), _msg("chatter")))
    assert actions == [
        SendMessage(recipient="b", content="ball 0 = 2", tldr="ball 0 = 2"),
        FinishTurn(reason="tally balls=1 hops=4 checksum=8"),
    ]
    assert policy.result() == "balls=1 hops=4 checksum=8"


async def test_the_last_retirement_submits_the_exact_result():
    policy = _balls(balls=2, target=3)
    await policy.decide(_state(_ball(1, 2)))
    actions = await policy.decide(_state(_ball(0, 2)))
    expected = BallsScriptedPolicy.expected_result(policy.spec)
    assert actions == [SubmitResult(result=expected)]
    assert expected == "balls=2 hops=6 checksum=9"


async def test_restore_takes_the_newest_tally_from_the_recorded_actions():
    policy = _balls(balls=5, target=3)
    policy.restore(
        actions=[
            {"action": "finish_turn", "reason": "tally balls=1 hops=3 checksum=3"},
            {"action": "send_message", "recipient": "b", "content": "ball 2 = 1"},
            {"action": "finish_turn", "reason": "tally balls=2 hops=6 checksum=9"},
            {"action": "send_message", "recipient": "b", "content": "ball 3 = 1"},
        ],
        tool_results=[],
    )
    assert policy.result() == "balls=2 hops=6 checksum=9"
    fresh = _balls()
    fresh.restore(actions=[{"action": "finish_turn", "reason": "done"}], tool_results=[])
    assert fresh.result() == "balls=0 hops=0 checksum=0"


async def test_nothing_to_do_finishes_the_turn_and_no_peer_cannot_start():
    policy = _balls()
    assert isinstance((await policy.decide(_state(_msg("hello"))))[0], FinishTurn)
    kickoff = _msg("go", kind="kickoff", sender="campaign")
    assert isinstance((await policy.decide(_state(kickoff, peers=())))[0], FinishTurn)
    assert policy.name == "scripted:balls"
    assert BallsScriptedPolicy.read_ball("ball 12 = 7") == (12, 7)
    assert BallsScriptedPolicy.read_ball("ball x = 7") is None


def test_fields_must_be_positive_and_the_kind_picks_the_class():
    for bad in ({"balls": 0}, {"target": 0}, {"balls": -1}):
        with pytest.raises(ValidationError):
            BallsPolicy(kind="balls", **bad)
    assert isinstance(scripted_policy(BallsPolicy(kind="balls")), BallsScriptedPolicy)
    assert isinstance(scripted_policy(CounterPolicy(kind="counter")), ScriptedPolicy)


class _Game:
    """Two balls players and their inboxes; each turn decides a random batch."""

    def __init__(self, spec: BallsPolicy, seed: int) -> None:
        self.spec = spec
        self.players = {"a": BallsScriptedPolicy(spec), "b": BallsScriptedPolicy(spec)}
        self.inbox: dict[str, list[Envelope]] = {"a": [], "b": []}
        self.details: dict[str, list[dict[str, object]]] = {"a": [], "b": []}  # decisions
        self.rng = random.Random(seed)
        self.sent = 0
        self.result: str | None = None
        kickoff = Envelope(
            run_id="r", sender="campaign", recipient="a", content="go", kind="kickoff"
        )
        self.inbox["a"].append(kickoff)

    async def turn(self, agent: str, *, duplicate: bool = False) -> None:
        inbox = self.inbox[agent]
        batch = inbox[: self.rng.randint(1, len(inbox))]
        del inbox[: len(batch)]
        if duplicate:  # the fault the dedupe must prevent: one message decided twice
            batch = [*batch, batch[0]]
        peer = "b" if agent == "a" else "a"
        state = TurnState(
            agent=agent,
            role="r",
            mission="m",
            task="t",
            round=1,
            allowed_peers=[peer],
            new_messages=batch,
        )
        actions = await self.players[agent].decide(state)
        self.details[agent].extend(act.model_dump(mode="json") for act in actions)
        for act in actions:
            if isinstance(act, SendMessage):
                self.sent += 1
                self.inbox[act.recipient].append(
                    Envelope(run_id="r", sender=agent, recipient=act.recipient, content=act.content)
                )
            elif isinstance(act, SubmitResult):
                self.result = act.result

    async def play(self, *, drop: int | None = None, duplicate: int | None = None) -> None:
        turns = 0
        while self.result is None and any(self.inbox.values()):
            turns += 1
            agent = self.rng.choice([name for name, box in self.inbox.items() if box])
            if drop is not None and turns == drop:
                self.inbox[agent].pop(0)
                continue
            await self.turn(agent, duplicate=turns == duplicate)


@pytest.mark.parametrize("target", [1, 2, 7, 50])
async def test_a_whole_game_sends_balls_times_target_and_submits_the_exact_result(target):
    spec = BallsPolicy(kind="balls", balls=20, target=target)
    game = _Game(spec, seed=target)
    await game.play()
    assert game.result == BallsScriptedPolicy.expected_result(spec)
    assert game.sent == 20 * target


async def test_a_lost_ball_never_completes_and_a_doubled_decision_is_wrong():
    spec = BallsPolicy(kind="balls", balls=5, target=10)
    lost = _Game(spec, seed=1)
    await lost.play(drop=5)
    assert lost.result is None and not any(lost.inbox.values())
    doubled = _Game(spec, seed=2)
    await doubled.play(duplicate=3)
    assert doubled.result is not None and doubled.result != BallsScriptedPolicy.expected_result(
        spec
    )


async def test_a_restarted_player_takes_its_tally_back_from_its_recent_actions():
    spec = BallsPolicy(kind="balls", balls=10, target=6)
    game = _Game(spec, seed=3)
    while not any(player.retirements >= 3 for player in game.players.values()):
        await game.turn(game.rng.choice([name for name, box in game.inbox.items() if box]))
    retirer = max(game.players, key=lambda name: game.players[name].retirements)
    assert game.players[retirer].retirements < spec.balls
    reborn = BallsScriptedPolicy(spec)
    # The journal hands back a bounded window of recent actions, not the whole history.
    reborn.restore(actions=game.details[retirer][-10:], tool_results=[])
    assert reborn.result() == game.players[retirer].result()
    game.players[retirer] = reborn
    await game.play()
    assert game.result == BallsScriptedPolicy.expected_result(spec)


def test_the_fault_flood_campaign_plays_1000_balls_messages():
    campaign = load_campaign("fault-flood").spec
    assert isinstance(campaign.policy, BallsPolicy)
    assert campaign.policy.balls * campaign.policy.target == 1000


async def test_the_tally_survives_the_agents_journal(tmp_path):
    spec = BallsPolicy(kind="balls", balls=4, target=4)  # even: "a" retires every ball
    game = _Game(spec, seed=4)
    path = tmp_path / "events" / "a.jsonl"
    with EventWriter(path, run_id="r", site="s", writer="a") as writer:
        while game.players["a"].retirements < 2:
            agent = game.rng.choice([name for name, box in game.inbox.items() if box])
            before = len(game.details["a"])
            await game.turn(agent)
            if agent == "a":  # the decision as the agent commits it, actions in full
                details = game.details["a"][before:]
                actions = [str(d["action"]) for d in details]
                writer.emit(
                    Decision, round=1, policy="scripted:balls", actions=actions, details=details
                )
    reborn = BallsScriptedPolicy(spec)
    journal = recover(path)
    reborn.restore(actions=journal.actions, tool_results=journal.tool_results)
    assert reborn.result() == game.players["a"].result()
