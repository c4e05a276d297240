"""make_policy's recording and replay: which model an agent gets, and where it records."""

from __future__ import annotations

import json

import pytest

from chia.agent.factory import lm_override, make_policy
from chia.agent.llm_policy import LLMPolicy
from chia.campaign import load_campaign
from chia.llm import ChatMessage
from chia.llm.recording import RecordingModel, records_path
from chia.llm.replay import ReplayModel
from chia.testing.openai_server import openai_server


@pytest.fixture
def chat():
    return load_campaign("federated-chat")


async def test_every_call_is_recorded_in_the_run_dir(chat, tmp_path):
    agent = chat.spec.agents[0]
    with openai_server([{"content": "hello", "usage": {"prompt_tokens": 4}}]) as server:
        lm = lm_override(chat.spec.lm, "vllm:qwen3-8b", base_url=server.url)
        policy = make_policy(chat.spec, prompts=chat.prompts, agent=agent, lm=lm, run_dir=tmp_path)
        assert isinstance(policy, LLMPolicy) and isinstance(policy.model, RecordingModel)
        reply = await policy.model.complete([ChatMessage.user("hi")])
    (line,) = records_path(tmp_path, agent.name).read_text().splitlines()
    record = json.loads(line)
    assert record["digest"] == reply.request_digest and record["campaign"] == "federated-chat"
    assert record["identity"]["provider"] == "vllm" and record["response"]["content"] == "hello"


def test_replay_answers_from_the_records_or_plays_the_offline_policy(chat, tmp_path):
    agent = chat.spec.agents[0]
    recorded = tmp_path / "rec"
    offline = make_policy(
        chat.spec, prompts=chat.prompts, agent=agent, run_dir=tmp_path / "a", replay=recorded
    )
    assert not isinstance(offline, LLMPolicy)  # nothing recorded, scripted campaign
    path = records_path(recorded / "aurora", agent.name)
    path.parent.mkdir(parents=True)
    path.write_text("")
    replayed = make_policy(
        chat.spec, prompts=chat.prompts, agent=agent, run_dir=tmp_path / "b", replay=recorded
    )
    assert isinstance(replayed, LLMPolicy) and isinstance(replayed.model, ReplayModel)
    assert replayed.model.live is None and replayed.name == "llm:replay:none"
    live_lm = lm_override(chat.spec.lm, "vllm:q", base_url="http://127.0.0.1:9/v1")
    live = make_policy(
        chat.spec, prompts=chat.prompts, agent=agent, lm=live_lm, run_dir=tmp_path / "c",
        replay=recorded,
    )  # fmt: skip
    assert isinstance(live, LLMPolicy) and isinstance(live.model, ReplayModel)
    assert live.model.live is not None and live.model.live.model == "q"
