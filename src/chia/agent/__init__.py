"""Campaign agents: the Academy agent, its message envelope, and decision policies."""

from chia.agent.envelope import KICKOFF_SENDER, Envelope, MessageKind
from chia.agent.policy import (
    Action,
    FinishTurn,
    Policy,
    SendMessage,
    SubmitResult,
    TurnState,
    Undelivered,
)
from chia.agent.scripted import ScriptedPolicy

__all__ = [
    "KICKOFF_SENDER",
    "Action",
    "Envelope",
    "FinishTurn",
    "MessageKind",
    "Policy",
    "ScriptedPolicy",
    "SendMessage",
    "SubmitResult",
    "TurnState",
    "Undelivered",
]
