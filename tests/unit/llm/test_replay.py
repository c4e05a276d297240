"""Replaying recorded model calls: hits by digest, the first divergence, restarts."""

from __future__ import annotations

from typing import Any

import pytest

from chia.events import ReplayDiverged
from chia.llm import ChatMessage, LLMCallError, Script, ToolSpec
from chia.llm.recording import CallLog, ModelIdentity, RecordingModel, read_records, records_path
from chia.llm.replay import ReplayDivergedError, ReplayModel, request_diff
from chia.llm.scripted import ScriptedLLM

IDENTITY = ModelIdentity(provider="scripted", model="m1")
TOOLS = [ToolSpec(name="finish_turn")]


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[Any, dict[str, Any]]] = []

    def emit(self, kind: Any, /, **fields: Any) -> object:
        self.events.append((kind, fields))
        return None


def _turn(round_: int, content: str = "counter = 1") -> list[ChatMessage]:
    state = f'{{"round":{round_},"new_messages":[{{"content":"{content}"}}]}}'
    return [ChatMessage.system("play the counter game\nbe brief"), ChatMessage.user(state)]


async def _record(tmp_path, *requests: list[ChatMessage]) -> list:
    """Record one call per request against a scripted model (the last one fails)."""
    steps: list[dict[str, Any]] = [
        {"content": f"reply {i}", "usage": {"prompt_tokens": 10 + i}}
        for i in range(len(requests) - 1)
    ]
    steps.append({"status": 500, "error": "boom"})
    log = CallLog(records_path(tmp_path / "rec", "a"), campaign="c")
    model = RecordingModel(ScriptedLLM(script=Script.parse(steps), model="m1"), IDENTITY, log)
    for request in requests[:-1]:
        await model.complete(request, TOOLS)
    with pytest.raises(LLMCallError):
        await model.complete(requests[-1], TOOLS)
    log.close()
    return read_records(log.path)


async def test_replay_answers_by_digest_without_the_model(tmp_path):
    recorded = await _record(tmp_path, _turn(1), _turn(2), _turn(3))
    log = CallLog(records_path(tmp_path / "new", "a"))
    replay = ReplayModel("a", recorded, log)
    assert replay.provider == "replay" and replay.model == "m1"
    first = await replay.complete(_turn(1), TOOLS)
    assert first.content == "reply 0" and first.tokens_in == 10
    assert first.request_digest == recorded[0].digest
    assert (await replay.complete(_turn(2), TOOLS)).content == "reply 1"
    with pytest.raises(LLMCallError, match="boom"):  # a recorded failure fails again
        await replay.complete(_turn(3), TOOLS)
    mine = read_records(log.path)
    assert [(r.seq, r.source, r.digest) for r in mine] == [
        (i, "replay", recorded[i].digest) for i in range(3)
    ]


async def test_first_miss_is_a_divergence_with_round_and_diff(tmp_path):
    recorded = await _record(tmp_path, _turn(1), _turn(2), _turn(3))
    landmarks: list[str] = []
    replay = ReplayModel(
        "agent-x", recorded, CallLog(records_path(tmp_path / "new", "a")), landmark=landmarks.append
    )
    sink = Sink()
    replay.bind(sink)
    await replay.complete(_turn(1), TOOLS)
    with pytest.raises(ReplayDivergedError) as caught:
        await replay.complete(_turn(2, "counter = 7"), TOOLS)
    error = caught.value
    assert error.agent == "agent-x" and error.round == 2 and error.seq == 1
    assert "agent-x diverged at round 2 (model call 2): message 1 (user) changed" in str(error)
    ((kind, fields),) = sink.events
    assert kind is ReplayDiverged and fields["round"] == 2
    assert fields["request_digest"] == error.digest != recorded[1].digest
    diff = fields["diff"]
    assert diff.splitlines()[0] == "message 1 (user) changed"
    assert '-   "content": "counter = 1"' in diff and '+   "content": "counter = 7"' in diff
    assert len(diff.splitlines()) < 30
    assert landmarks and "round 2" in landmarks[0]


async def test_continue_live_takes_over_from_the_divergence(tmp_path):
    recorded = await _record(tmp_path, _turn(1), _turn(2))
    log = CallLog(records_path(tmp_path / "new", "a"))
    live_model = ScriptedLLM(script=Script.parse([{"content": "live 1"}, {"content": "live 2"}]))
    live = RecordingModel(live_model, ModelIdentity(provider="scripted", model="live"), log)
    landmarks: list[str] = []
    replay = ReplayModel("a", recorded, log, live=live, landmark=landmarks.append)
    sink = Sink()
    replay.bind(sink)
    assert (await replay.complete(_turn(1), TOOLS)).content == "reply 0"
    assert (await replay.complete(_turn(5), TOOLS)).content == "live 1"
    assert (await replay.complete(_turn(2), TOOLS)).content == "live 2"  # the rest goes live
    assert replay.provider == "scripted" and replay.model == "scripted"
    assert [k.__name__ for k, _ in sink.events] == ["ReplayDiverged", "Note"]
    assert "continuing live on scripted:scripted" in landmarks[0]
    assert [r.source for r in read_records(log.path)] == ["replay", "live", "live"]


async def test_a_restarted_replay_skips_answers_its_earlier_incarnation_used(tmp_path):
    same = _turn(1)
    recorded = await _record(tmp_path, same, same, _turn(9))
    path = records_path(tmp_path / "new", "a")
    first = ReplayModel("a", recorded, CallLog(path))
    assert (await first.complete(same, TOOLS)).content == "reply 0"
    first.log.close()  # the process dies here; its record file stays
    second = ReplayModel("a", recorded, CallLog(path))
    assert (await second.complete(same, TOOLS)).content == "reply 1"
    with pytest.raises(ReplayDivergedError, match="model call 3"):
        await second.complete(same, TOOLS)  # asked once more than recorded


def test_request_diff_names_counts_tools_and_missing_positions(tmp_path):
    assert "no model call at this position" in request_diff(None, _turn(1), TOOLS)


async def test_request_diff_for_extra_messages_and_tools(tmp_path):
    recorded = await _record(tmp_path, _turn(1), _turn(2))
    longer = [*_turn(1), ChatMessage.user("more")]
    assert request_diff(recorded[0], longer, TOOLS).startswith(
        "3 messages instead of the recorded 2"
    )
    other_tools = request_diff(recorded[0], _turn(1), [ToolSpec(name="submit_result")])
    assert other_tools == "tools changed: recorded ['finish_turn'], now ['submit_result']"
    system = request_diff(recorded[0], [ChatMessage.system("play\nbe brief"), _turn(1)[1]], TOOLS)
    assert system.splitlines()[0] == "message 0 (system) changed"
    assert "-play the counter game" in system and "+play" in system
