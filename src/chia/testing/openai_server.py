"""A small OpenAI-compatible chat-completions server that replays a reply script.

Tests point langchain-openai at it so the real HTTP path runs: requests are recorded
(body, path, headers, and ``authorized``: whether a bearer token came; credentials are
masked in a record file), replies come from a
:class:`~chia.llm.script.Script` in order, tool calls and usage included. It binds
loopback on a free port unless told otherwise. ``chia llm fake-server`` serves it from
the command line for dry runs.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from chia.llm.script import Script, ScriptStep
from chia.testing.model_server import FakeModelServer, RecordedRequest, as_script, serving

__all__ = ["OpenAIServer", "RecordedRequest", "openai_server"]


def _reply_body(step: ScriptStep, model: str, number: int) -> dict[str, Any]:
    calls = [
        {
            "id": call.id or f"call_{number}_{i}",
            "type": "function",
            "function": {"name": call.name, "arguments": call.raw_arguments()},
        }
        for i, call in enumerate(step.tool_calls)
    ]
    message: dict[str, Any] = {"role": "assistant", "content": step.content or None}
    if calls:
        message["tool_calls"] = calls
    usage = step.usage
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
        ],
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        },
    }


def _error(
    status: int, message: str, retry_after_s: float | None = None, code: str | None = None
) -> web.Response:
    body = {"error": {"message": message, "type": code or "invalid_request_error", "code": status}}
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else None
    return web.json_response(body, status=status, headers=headers)


class OpenAIServer(FakeModelServer):
    """The OpenAI chat-completions wire format over the shared fake server.

    Args:
        script: The replies to replay.
        api_key: If set, requests whose bearer token differs get HTTP 401.
        record_path: If set, each request is also appended there as one JSON line
            (credential headers masked).
    """

    name = "openai"

    def __init__(
        self, script: Script, *, api_key: str | None = None, record_path: Path | None = None
    ) -> None:
        super().__init__(script, record_path=record_path)
        self._api_key = api_key

    def add_routes(self, app: web.Application) -> None:
        """``/v1/chat/completions`` and ``/v1/models`` (also without the ``/v1``)."""
        for prefix in ("/v1", ""):
            app.router.add_post(f"{prefix}/chat/completions", self._complete)
            app.router.add_get(f"{prefix}/models", self._models)

    def error(self, step: ScriptStep) -> web.Response:
        """OpenAI's error body for a scripted error step."""
        return _error(step.status, step.error, step.retry_after_s, step.error_code)

    async def _complete(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "request body is not JSON")
        presented = request.headers.get("Authorization", "")
        number = self.record(request, body, authorized=presented.startswith("Bearer "))
        if self._api_key is not None and presented != f"Bearer {self._api_key}":
            return _error(401, "invalid API key")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "'messages' must be a list of chat messages")
        if body.get("stream"):
            return _error(400, "streaming is not supported by the fake server")
        step = await self.next_step()
        if isinstance(step, web.Response):
            return step
        model = self.script.model or str(body.get("model", "fake"))
        return web.json_response(_reply_body(step, model, number))

    async def _models(self, request: web.Request) -> web.Response:
        model = self.script.model or "fake"
        return web.json_response({"object": "list", "data": [{"id": model, "object": "model"}]})

    async def start_async(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving on this event loop; return the base URL (``http://h:p/v1``)."""
        self.url = f"{await super().start_async(host, port)}/v1"
        return self.url


@contextlib.contextmanager
def openai_server(
    script: Script | list[Any] | dict[str, Any],
    *,
    api_key: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    record_path: Path | None = None,
) -> Iterator[OpenAIServer]:
    """Run a fake OpenAI server in a background thread for the ``with`` block.

    Args:
        script: A :class:`Script`, or its JSON form (a list of steps or an object).
        api_key: If set, requests must carry this bearer token (else HTTP 401).
        host: Address to bind (loopback by default).
        port: Port to bind (0: a free one; read it from ``server.url``).
        record_path: Also append every request there as JSON lines.
    """
    server = OpenAIServer(as_script(script), api_key=api_key, record_path=record_path)
    with serving(server, host, port):
        yield server
