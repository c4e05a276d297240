import json
import urllib.error
import urllib.request

import pytest

from chia.testing.openai_server import openai_server


def _post(url, body, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        f"{url}/chat/completions", json.dumps(body).encode(), headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_replays_tool_calls_with_usage_and_records(tmp_path):
    script = [
        {
            "tool_calls": [{"name": "f", "arguments": "{bad"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "cached_tokens": 3},
        },
    ]
    record = tmp_path / "r.jsonl"
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with openai_server(script, record_path=record) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/v1")
        reply = _post(server.url, body, key="k")
        with pytest.raises(urllib.error.HTTPError) as info:
            _post(server.url, body)
        assert info.value.code == 500  # ran out of replies: no default
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "f", "arguments": "{bad"}
    assert reply["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 2,
        "total_tokens": 7,
        "prompt_tokens_details": {"cached_tokens": 3},
    }
    lines = [json.loads(x) for x in record.read_text().splitlines()]
    assert [x["authorized"] for x in lines] == [True, False]
    assert lines[0]["body"] == body and "Bearer" not in record.read_text()


def test_rejects_wrong_key_and_bad_requests():
    with openai_server({"responses": [], "default": {"content": "d"}}, api_key="right") as server:
        ok = {"messages": [{"role": "user", "content": "x"}]}
        assert _post(server.url, ok, key="right")["choices"][0]["message"]["content"] == "d"
        for body, key, code in (
            (ok, "wrong", 401),
            ({"messages": "not a list"}, "right", 400),
            ({**ok, "stream": True}, "right", 400),
        ):
            with pytest.raises(urllib.error.HTTPError) as info:
                _post(server.url, body, key=key)
            assert info.value.code == code


def test_scripted_http_error():
    with openai_server([{"status": 429, "error": "slow down"}]) as server:
        with pytest.raises(urllib.error.HTTPError) as info:
            _post(server.url, {"messages": []})
        assert info.value.code == 429
        assert json.loads(info.value.read())["error"]["message"] == "slow down"
