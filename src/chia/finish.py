"""How an agent's part in a campaign ends: the finish reasons, written once.

An agent finishes ``completed`` (the campaign's result was submitted), at
``max_decisions``, after ``idle_timeout`` without messages, or ``stopped`` (a signal or
its site shutting down). The first three are final: a restarted agent has nothing left to
do, and a campaign's ``success`` criteria may name them. ``stopped`` is not: the agent
resumes where it was.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["FINAL_REASONS", "FinalReason", "FinishReason"]

#: The reasons after which an agent is done for good.
FinalReason = Literal["completed", "max_decisions", "idle_timeout"]
#: Every reason an agent finishes normally.
FinishReason = Literal[FinalReason, "stopped"]
#: :data:`FinalReason`'s values.
FINAL_REASONS: tuple[FinalReason, ...] = get_args(FinalReason)
