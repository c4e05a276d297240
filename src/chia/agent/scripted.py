"""The offline policies: play a campaign's scripted ``policy`` section deterministically."""

from __future__ import annotations

import re
from typing import Any

from chia.agent.envelope import Envelope
from chia.agent.policy import Action, FinishTurn, Policy, SendMessage, SubmitResult, TurnState
from chia.campaign.model import BallsPolicy, CounterPolicy, PolicySpec

__all__ = ["BallsScriptedPolicy", "ScriptedPolicy", "scripted_policy"]


def scripted_policy(spec: PolicySpec) -> Policy:
    """Return the offline policy that plays ``spec`` (one class per policy ``kind``)."""
    if isinstance(spec, BallsPolicy):
        return BallsScriptedPolicy(spec)
    return ScriptedPolicy(spec)


class ScriptedPolicy:
    """Plays the counter game: read the newest counter, add one, pass it on.

    The agent that receives the kickoff sends ``start`` to its first peer. Whoever sends
    the target value submits the result right after; whoever receives it submits too.

    Args:
        spec: The campaign's counter policy section.
    """

    def __init__(self, spec: CounterPolicy) -> None:
        self.spec = spec
        head, _, tail = spec.message.partition("{counter}")
        self._pattern = re.compile(re.escape(head) + r"(-?\d+)" + re.escape(tail))

    @property
    def name(self) -> str:
        """Policy name used in events."""
        return f"scripted:{self.spec.kind}"

    def format(self, counter: int) -> str:
        """Render the message carrying ``counter``."""
        return self.spec.message.replace("{counter}", str(counter))

    def read_counter(self, content: str) -> int | None:
        """Return the counter a message carries, or None."""
        matches = self._pattern.findall(content)
        return int(matches[-1]) if matches else None

    async def decide(self, state: TurnState) -> list[Action]:
        """Return this turn's actions for the counter game."""
        if not state.allowed_peers:
            return [FinishTurn(reason="no peers to play with")]
        peer = state.allowed_peers[0]
        for message in reversed(state.new_messages):
            if message.kind == "kickoff":
                return self._send(peer, self.spec.start)
            counter = self.read_counter(message.content)
            if counter is None:
                continue
            if counter >= self.spec.target:
                return [SubmitResult(result=self.format(counter))]
            return self._send(message.sender, counter + 1)
        return [FinishTurn(reason="no counter in the new messages")]

    def _send(self, peer: str, counter: int) -> list[Action]:
        text = self.format(counter)
        actions: list[Action] = [SendMessage(recipient=peer, content=text, tldr=text)]
        if counter >= self.spec.target:
            actions.append(SubmitResult(result=text))
        return actions


_BALL = re.compile(r"^ball (\d+) = (\d+)$")
_TALLY = re.compile(r"^tally balls=(\d+) hops=(\d+) checksum=(\d+)$")


class BallsScriptedPolicy:
    """Plays the balls game: many independent messages in flight, each bounced to a target.

    On the kickoff the agent sends ``ball <i> = 0`` (``i`` in ``0..balls-1``) to its first
    peer. Receiving ``ball <i> = <v>``, it sends ``ball <i> = <v+1>`` back to the sender,
    unless ``v+1`` reaches the target: then the ball retires here. Every ball travels
    between the same two agents and makes the same number of hops, so every ball retires at
    the same agent, which counts its retirements. When it has counted ``balls`` of them it
    submits ``balls=<count> hops=<sum of final values> checksum=<sum of (i+1)*final>``.

    The result is exact only if no message was lost (a lost ball never retires: the
    campaign never completes) and none was decided twice (a second decision forks a ball;
    the copy retires too, so the count reaches ``balls`` with some ball missing and the
    checksum is wrong, or it is counted after the submission and the fault suite's
    duplicate column shows it).

    The tally is the policy's only state. Every turn that does not submit ends with a
    ``finish_turn`` whose reason is the tally (``tally balls=.. hops=.. checksum=..``), so
    it is on record in the turn's decision and :meth:`restore` takes it back from the
    journal in a restarted agent: state and journal cannot disagree.

    Args:
        spec: The campaign's balls policy section.
    """

    def __init__(self, spec: BallsPolicy) -> None:
        self.spec = spec
        self.retirements = 0
        self.hops = 0  # sum of the retired balls' final values
        self.checksum = 0  # sum of (ball + 1) * final value

    @property
    def name(self) -> str:
        """Policy name used in events."""
        return f"scripted:{self.spec.kind}"

    @staticmethod
    def format(ball: int, value: int) -> str:
        """Render the message carrying ``ball``'s ``value``."""
        return f"ball {ball} = {value}"

    @staticmethod
    def read_ball(content: str) -> tuple[int, int] | None:
        """Return ``(ball, value)`` if ``content`` is a ball message, else None."""
        found = _BALL.match(content.strip())
        return (int(found[1]), int(found[2])) if found else None

    @staticmethod
    def expected_result(spec: BallsPolicy) -> str:
        """The result a campaign playing ``spec`` submits when nothing was lost or doubled."""
        checksum = spec.target * spec.balls * (spec.balls + 1) // 2
        return f"balls={spec.balls} hops={spec.balls * spec.target} checksum={checksum}"

    def result(self) -> str:
        """The tally of the retirements counted so far (the result, once all are in)."""
        return f"balls={self.retirements} hops={self.hops} checksum={self.checksum}"

    def restore(self, *, actions: list[dict[str, Any]], tool_results: list[dict[str, Any]]) -> None:
        """Take the tally back from the newest ``finish_turn`` of earlier turns.

        Args:
            actions: Recent actions of earlier turns, oldest first, as their decisions
                recorded them (``{"action": "finish_turn", "reason": ...}``).
            tool_results: Unused: this policy calls no tools.
        """
        for act in reversed(actions):
            found = (
                _TALLY.match(str(act.get("reason", "")))
                if act.get("action") == "finish_turn"
                else None
            )
            if found:
                self.retirements, self.hops, self.checksum = (int(g) for g in found.groups())
                return

    async def decide(self, state: TurnState) -> list[Action]:
        """Return this turn's actions: the opening throw, bounces, and the tally or result."""
        actions: list[Action] = []
        for message in state.new_messages:
            if message.kind == "kickoff":
                if not state.allowed_peers:
                    return [FinishTurn(reason="no peers to play with")]
                peer = state.allowed_peers[0]
                actions.extend(self._send(peer, ball, 0) for ball in range(self.spec.balls))
                continue
            bounce = self._bounce(message)
            if bounce is not None:
                actions.append(bounce)
        if self.retirements >= self.spec.balls:
            return [*actions, SubmitResult(result=self.result())]
        return [*actions, FinishTurn(reason=f"tally {self.result()}")]

    def _bounce(self, message: Envelope) -> SendMessage | None:
        """Retire the ball ``message`` carries, or return its next hop (None if no ball)."""
        found = self.read_ball(message.content) if message.kind == "chat" else None
        if found is None:
            return None
        ball, value = found
        if value + 1 >= self.spec.target:
            self.retirements += 1
            self.hops += value + 1
            self.checksum += (ball + 1) * (value + 1)
            return None
        return self._send(message.sender, ball, value + 1)

    def _send(self, peer: str, ball: int, value: int) -> SendMessage:
        text = self.format(ball, value)
        return SendMessage(recipient=peer, content=text, tldr=text)
