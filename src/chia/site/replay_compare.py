"""Did a replay do what the recording did? Per-agent event sequences, compared.

Each agent's own events file is compared in its own order (a merged timeline would
depend on clock ties between sites), on what the campaign did, never on ids or times:
messages (kind, sender, recipient, content), decisions (their actions), tool calls
(tool, arguments), tool results (tool, ok, output) and submitted results. Completion
notices (``complete`` messages) are left out: one that reaches a peer already stopping
may or may not be logged there, in the recording as in the replay.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chia.errors import ChiaUsageError

__all__ = ["Signature", "agent_sequences", "compare_runs", "divergences", "read_event_lines"]

Signature = tuple[Any, ...]
_CLIP = 120


def read_event_lines(path: Path) -> list[dict[str, Any]]:
    """Every event of one events file as a dict; a torn last line is skipped.

    Raises:
        ChiaUsageError: For a complete line that is not a JSON object (file and line).
    """
    complete, newline, _tail = path.read_bytes().rpartition(b"\n")
    events = []
    for number, line in enumerate(complete.split(b"\n") if newline else [], start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise ChiaUsageError(f"{path}:{number}: not an event ({exc})") from None
        if not isinstance(event, dict) or "kind" not in event:
            raise ChiaUsageError(f"{path}:{number}: not an event (no kind)")
        events.append(event)
    return events


def _signature(event: dict[str, Any]) -> Signature | None:
    kind = event["kind"]
    if kind in ("message_sent", "message_received"):
        if event.get("message_kind") == "complete":
            return None
        fields = ("sender", "recipient", "message_kind", "content")
        return (kind, *(event.get(f) for f in fields))
    if kind == "decision":
        return (kind, event.get("agent"), tuple(event.get("actions", [])))
    if kind == "tool_call":
        arguments = json.dumps(event.get("arguments", {}), sort_keys=True)
        return (kind, event.get("agent"), event.get("tool"), arguments)
    if kind == "tool_result":
        return (kind, event.get("agent"), event.get("tool"), event.get("ok"), event.get("output"))
    if kind == "result_submitted":
        return (kind, event.get("agent"), event.get("result"))
    return None


def agent_sequences(run_dir: Path) -> dict[str, list[Signature]]:
    """Each agent's compared events, in its own file's order, across the run's sites.

    Raises:
        ChiaUsageError: For a corrupt events file (file and line named).
    """
    sequences: dict[str, list[Signature]] = {}
    for path in sorted(run_dir.glob("*/events/*.jsonl")):
        if path.stem.startswith("_"):  # site-level writers, not agents
            continue
        signatures = [s for e in read_event_lines(path) if (s := _signature(e)) is not None]
        sequences.setdefault(path.stem, []).extend(signatures)
    return sequences


def _show(signature: Signature | None) -> str:
    if signature is None:
        return "nothing"
    text = " ".join(str(part) for part in signature)
    return text if len(text) <= _CLIP else text[:_CLIP] + "..."


def compare_runs(recorded: Path, replayed: Path) -> tuple[int, list[str]]:
    """Compare two runs agent by agent.

    Returns:
        How many events were compared, and one line per agent whose sequence differs
        (the first differing event of each, recorded then replayed).

    Raises:
        ChiaUsageError: For a corrupt events file in either run.
    """
    old, new = agent_sequences(recorded), agent_sequences(replayed)
    compared = 0
    differences = []
    for agent in sorted(set(old) | set(new)):
        before, after = old.get(agent, []), new.get(agent, [])
        compared += max(len(before), len(after))
        for index in range(max(len(before), len(after))):
            was = before[index] if index < len(before) else None
            now = after[index] if index < len(after) else None
            if was != now:
                differences.append(
                    f"{agent} event {index + 1}: recorded {_show(was)}; replayed {_show(now)}"
                )
                break
    return compared, differences


def divergences(run_dir: Path) -> list[str]:
    """One line per ``replay_diverged`` event of a run: agent, round, what changed."""
    lines = []
    for path in sorted(run_dir.glob("*/events/*.jsonl")):
        for event in read_event_lines(path):
            if event["kind"] == "replay_diverged":
                first = str(event.get("diff", "")).splitlines()[:1] or ["?"]
                lines.append(f"{event.get('agent')} at round {event.get('round')}: {first[0]}")
    return lines
