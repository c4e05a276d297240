"""What the model reads each turn: the system prompt and a compact JSON state.

The state is real JSON in a user message (the model was once
sent a Python ``repr`` of the message list): the task, the agent's mission, the round,
its allowed peers and their status, recent messages, its sends that failed since the last
turn, recent tool results and its own recent actions. Long texts are clipped so a long
campaign keeps a bounded prompt.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chia.agent.envelope import Envelope
from chia.agent.policy import TurnState
from chia.campaign.model import PromptProfile

__all__ = ["CLIP_CHARS", "state_json", "system_prompt"]

#: Message and tool-result texts longer than this are clipped in the state.
CLIP_CHARS = 2000


def _clip(text: str, limit: int = CLIP_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more chars]"


def system_prompt(prompts: PromptProfile) -> str:
    """The system message: the profile's system prompt, then its protocol prompt."""
    return f"{prompts.system_prompt.strip()}\n\n{prompts.protocol_prompt.strip()}"


def _message(envelope: Envelope) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "from": envelope.sender,
        "to": envelope.recipient,
        "kind": envelope.kind,
        "round": envelope.round,
        "content": _clip(envelope.content),
    }
    if envelope.sender_site:
        entry["from_site"] = envelope.sender_site
    if envelope.reply_requested:
        entry["reply_requested"] = True
    return entry


def state_json(
    state: TurnState,
    *,
    peer_status: Mapping[str, str],
    tool_results: Iterable[Mapping[str, Any]] = (),
    recent_actions: Iterable[Mapping[str, Any]] = (),
) -> str:
    """Render the turn's state as compact JSON for the model's user message.

    Args:
        state: What the agent knows at the start of the turn.
        peer_status: Each allowed peer's status as the agent knows it.
        tool_results: Results of tool calls in earlier turns, oldest first.
        recent_actions: This agent's actions in earlier turns, oldest first.
    """
    document = {
        "agent": state.agent,
        "role": state.role,
        "task": state.task,
        "mission": state.mission,
        "round": state.round,
        "allowed_peers": list(state.allowed_peers),
        "peer_status": {peer: peer_status.get(peer, "unknown") for peer in state.allowed_peers},
        "new_messages": [_message(m) for m in state.new_messages],
        "recent_messages": [_message(m) for m in state.recent_messages],
        "undelivered_messages": [u.model_dump() for u in state.undelivered],
        "recent_tool_results": [
            {**r, "output": _clip(str(r.get("output", "")))} for r in tool_results
        ],
        "recent_actions": list(recent_actions),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
