"""The offline policy: plays a campaign's scripted ``policy`` section deterministically."""

from __future__ import annotations

import re

from chia.agent.policy import Action, FinishTurn, SendMessage, SubmitResult, TurnState
from chia.campaign.model import CounterPolicy

__all__ = ["ScriptedPolicy"]


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
