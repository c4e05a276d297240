"""Recording model calls: digest stability and sensitivity, the record file, torn tails."""

from __future__ import annotations

import json
import os

import pytest

from chia.llm import ChatMessage, LLMCallError, Script, ToolCallRequest, ToolSpec
from chia.llm.recording import (
    CallLog,
    ModelIdentity,
    RecordFileError,
    RecordingModel,
    find_records,
    read_records,
    records_path,
    request_digest,
    turn_round,
)
from chia.llm.scripted import ScriptedLLM

IDENTITY = ModelIdentity(provider="openai_compatible", model="gpt-5-mini", max_tokens=100)
TOOLS = [ToolSpec(name="send_message", description="send", parameters={"type": "object"})]


def _messages(content: str = '{"round":3,"agent":"a"}') -> list[ChatMessage]:
    call = ToolCallRequest(id="call_1", name="send_message", arguments={"to": "b", "n": 1})
    return [
        ChatMessage.system("you count"),
        ChatMessage.user(content),
        ChatMessage(role="assistant", tool_calls=[call]),
        ChatMessage.tool("call_1", '{"ok": true}'),
    ]


def test_digest_is_stable_across_equal_requests_and_key_order():
    first = request_digest(IDENTITY, _messages(), TOOLS)
    assert first.startswith("sha256:") and len(first) == 7 + 64
    assert request_digest(IDENTITY, _messages(), TOOLS) == first
    reordered = _messages()
    reordered[2] = ChatMessage(
        role="assistant",
        tool_calls=[
            ToolCallRequest(id="call_1", name="send_message", arguments={"n": 1, "to": "b"})
        ],
    )
    assert request_digest(IDENTITY, reordered, TOOLS) == first


@pytest.mark.parametrize(
    "change",
    [
        lambda m, t, i: ([*m[:1], ChatMessage.user('{"round":4,"agent":"a"}'), *m[2:]], t, i),
        lambda m, t, i: ([ChatMessage.system("you count!"), *m[1:]], t, i),
        lambda m, t, i: ([*m[:3], ChatMessage.tool("call_2", '{"ok": true}')], t, i),
        lambda m, t, i: (m[:3], t, i),
        lambda m, t, i: (m, [], i),
        lambda m, t, i: (m, [ToolSpec(name="send_message", description="other")], i),
        lambda m, t, i: (m, t, i.model_copy(update={"model": "gpt-5"})),
        lambda m, t, i: (m, t, i.model_copy(update={"provider": "openai"})),
        lambda m, t, i: (m, t, i.model_copy(update={"temperature": 0.5})),
        lambda m, t, i: (m, t, i.model_copy(update={"max_tokens": 101})),
    ],
)
def test_digest_changes_with_whatever_decides_the_answer(change):
    messages, tools, identity = change(_messages(), TOOLS, IDENTITY)
    assert request_digest(identity, messages, tools) != request_digest(IDENTITY, _messages(), TOOLS)


def test_turn_round_reads_the_state_or_says_zero():
    assert turn_round(_messages()) == 3
    assert turn_round([ChatMessage.user("not json")]) == 0
    assert turn_round([ChatMessage.system("s")]) == 0


def _script_model() -> ScriptedLLM:
    script = Script.parse(
        [
            {
                "content": "hi",
                "tool_calls": [{"name": "send_message", "arguments": {"to": "b"}, "id": "c9"}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 3},
            },
            {"status": 503, "error": "busy"},
        ]
    )
    return ScriptedLLM(script=script, model="m1")


async def test_recording_model_records_answers_and_errors(tmp_path):
    path = records_path(tmp_path, "agent-a")
    log = CallLog(path, campaign="camp")
    identity = ModelIdentity(provider="scripted", model="m1")
    model = RecordingModel(_script_model(), identity, log)
    assert (model.provider, model.model) == ("scripted", "m1")
    reply = await model.complete(_messages(), TOOLS)
    assert reply.request_digest == request_digest(identity, _messages(), TOOLS)
    assert reply.content == "hi" and reply.tool_calls[0].id == "c9"
    with pytest.raises(LLMCallError, match="busy"):
        await model.complete(_messages("again"), TOOLS)
    log.close()

    records = read_records(path)
    assert [r.seq for r in records] == [0, 1]
    first, failed = records
    assert first.digest == reply.request_digest and first.round == 3
    assert first.campaign == "camp" and first.source == "live"
    assert first.response is not None and first.response.tokens_in == 12
    assert first.response.tool_calls[0].arguments == {"to": "b"}
    assert first.request.messages == _messages()
    assert first.request.tools == [t.openai_schema() for t in TOOLS]
    assert failed.response is None and "busy" in (failed.error or "")
    assert first.completion().tool_calls == reply.tool_calls
    with pytest.raises(LLMCallError, match="busy"):
        failed.completion()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert find_records(tmp_path, "agent-a") == path
    assert find_records(tmp_path.parent, "agent-a") == path  # a run dir: <run>/<site>/llm
    assert find_records(tmp_path, "agent-b") is None


async def test_each_line_is_one_json_object_and_a_reopened_log_continues(tmp_path):
    path = records_path(tmp_path, "a")
    log = CallLog(path)
    await RecordingModel(_script_model(), IDENTITY, log).complete(_messages(), TOOLS)
    log.close()
    again = CallLog(path)
    assert again.next_seq == 1
    again.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["seq"] == 0


async def test_torn_last_line_is_skipped_and_cut_before_the_next_append(tmp_path):
    path = records_path(tmp_path, "a")
    log = CallLog(path)
    model = RecordingModel(_script_model(), IDENTITY, log)
    await model.complete(_messages(), TOOLS)
    log.close()
    whole = path.read_bytes()
    with path.open("ab") as out:
        out.write(whole[: len(whole) // 2])  # a process killed in the middle of a write
    assert len(read_records(path)) == 1
    reopened = CallLog(path)
    assert path.read_bytes() == whole  # the torn tail is gone before anything is appended
    assert reopened.next_seq == 1
    reopened.close()


def test_a_corrupt_middle_line_names_file_and_line(tmp_path):
    path = tmp_path / "a.jsonl"
    record = {
        "seq": 0,
        "digest": "sha256:00",
        "identity": {"provider": "p", "model": "m"},
        "request": {"messages": []},
    }
    path.write_text(json.dumps(record) + "\n{not json\n" + json.dumps(record) + "\n")
    with pytest.raises(RecordFileError, match=rf"{path}:2: not a model-call record"):
        read_records(path)
    with pytest.raises(RecordFileError, match=rf"{path}:2"):
        CallLog(path)
    path.write_text(json.dumps({**record, "seq": -1}) + "\n")
    with pytest.raises(RecordFileError, match=rf"{path}:1: .*seq"):
        read_records(path)
    with pytest.raises(RecordFileError, match="cannot read"):
        read_records(tmp_path / "missing.jsonl")


async def test_no_secret_reaches_the_records(tmp_path, monkeypatch):
    """A key in the environment and in the provider's config never lands in a record."""
    from chia.llm import make_llm
    from chia.testing.openai_server import openai_server

    key = "sk-unit-recording-5c1d9e7f3a2b4c6d"
    monkeypatch.setenv("CHIA_UNIT_KEY", key)
    script = {"responses": [{"content": "ok", "usage": {"prompt_tokens": 5}}]}
    with openai_server(script, api_key=key) as server:
        inner = make_llm(
            "openai_compatible", "gpt-5-mini", base_url=server.url, api_key_env="CHIA_UNIT_KEY"
        )
        log = CallLog(records_path(tmp_path, "a"))
        model = RecordingModel(inner, IDENTITY, log)  # type: ignore[arg-type]
        reply = await model.complete(_messages(), TOOLS)
        log.close()
    assert reply.content == "ok" and reply.tokens_in == 5
    scanned = 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            scanned += 1
            for piece in (key, key[:12], key[-10:], "CHIA_UNIT_KEY", "Bearer"):
                assert piece.encode() not in data, f"{piece!r} in {path}"
    assert scanned == 1 and os.path.getsize(records_path(tmp_path, "a")) > 0
