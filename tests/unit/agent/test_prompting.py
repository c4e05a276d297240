import json

from chia.agent.envelope import Envelope
from chia.agent.policy import TurnState, Undelivered
from chia.agent.prompting import CLIP_CHARS, state_json, system_prompt
from chia.campaign import PromptProfile


def test_system_prompt_joins_both_prompts():
    prompts = PromptProfile(system_prompt=" A ", protocol_prompt="B\n")
    assert system_prompt(prompts) == "A\n\nB"


def test_state_is_compact_json_with_every_section():
    long = "x" * (CLIP_CHARS + 50)
    message = Envelope(
        run_id="r", sender="b", sender_site="crux", recipient="a", content=long,
        reply_requested=True,
    )  # fmt: skip
    state = TurnState(
        agent="a", role="r", mission="m", task="t", round=2, allowed_peers=["b", "c"],
        new_messages=[message], peer_status={"b": "completed"},
        undelivered=[Undelivered(recipient="c", round=1, reason="delivery failed: timeout")],
    )  # fmt: skip
    text = state_json(
        state,
        peer_status=state.peer_status,
        tool_results=[{"tool": "s.t", "ok": True, "output": long}],
        recent_actions=[{"action": "finish_turn"}],
    )
    assert "\n" not in text and ", " not in text[:20]
    doc = json.loads(text)
    assert doc["peer_status"] == {"b": "completed", "c": "unknown"}
    new = doc["new_messages"][0]
    assert new["from"] == "b" and new["from_site"] == "crux" and new["reply_requested"]
    assert new["content"].endswith("[50 more chars]")
    assert doc["recent_tool_results"][0]["output"].endswith("[50 more chars]")
    assert doc["recent_actions"] == [{"action": "finish_turn"}]
    assert doc["undelivered_messages"] == [
        {"recipient": "c", "round": 1, "reason": "delivery failed: timeout"}
    ]
    assert {"task", "mission", "round", "allowed_peers", "recent_messages"} <= set(doc)
