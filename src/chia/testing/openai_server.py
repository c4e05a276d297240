"""A small OpenAI-compatible chat-completions server that replays a reply script.

Tests point langchain-openai at it so the real HTTP path runs: requests are recorded
(body and path; the Authorization header only as present or not), replies come from a
:class:`~chia.llm.script.Script` in order, tool calls and usage included. It binds
loopback on a free port unless told otherwise. ``chia llm fake-server`` serves it from
the command line for dry runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from chia.llm.script import Script, ScriptPlayer, ScriptStep

__all__ = ["OpenAIServer", "RecordedRequest", "openai_server"]

RecordedRequest = dict[str, Any]


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


class OpenAIServer:
    """The server: an aiohttp app plus the script player and the request record.

    Args:
        script: The replies to replay.
        api_key: If set, requests whose bearer token differs get HTTP 401.
        record_path: If set, each request is also appended there as one JSON line.
    """

    def __init__(
        self, script: Script, *, api_key: str | None = None, record_path: Path | None = None
    ) -> None:
        self.script = script
        self.player = ScriptPlayer(script)
        self.requests: list[RecordedRequest] = []
        self.record_path = record_path
        self._api_key = api_key
        self._lock = threading.Lock()
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def app(self) -> web.Application:
        """The aiohttp application (``/v1/chat/completions``, ``/v1/models``)."""
        app = web.Application()
        for prefix in ("/v1", ""):
            app.router.add_post(f"{prefix}/chat/completions", self._complete)
            app.router.add_get(f"{prefix}/models", self._models)
        return app

    def _record(self, request: web.Request, body: Any) -> int:
        entry = {
            "path": request.path,
            "authorized": request.headers.get("Authorization", "").startswith("Bearer "),
            "body": body,
        }
        with self._lock:
            self.requests.append(entry)
            number = len(self.requests)
            if self.record_path is not None:
                with self.record_path.open("a") as out:
                    out.write(json.dumps(entry) + "\n")
        return number

    async def _complete(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "request body is not JSON")
        number = self._record(request, body)
        expected = None if self._api_key is None else f"Bearer {self._api_key}"
        if expected is not None and request.headers.get("Authorization") != expected:
            return _error(401, "invalid API key")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "'messages' must be a list of chat messages")
        if body.get("stream"):
            return _error(400, "streaming is not supported by the fake server")
        step = self.player.next_step()
        if step is None:
            return _error(500, f"the script ran out after {len(self.script.responses)} replies")
        if step.delay_s:
            await asyncio.sleep(step.delay_s)
        if step.status != 200:
            return _error(step.status, step.error, step.retry_after_s, step.error_code)
        model = self.script.model or str(body.get("model", "fake"))
        return web.json_response(_reply_body(step, model, number))

    async def _models(self, request: web.Request) -> web.Response:
        model = self.script.model or "fake"
        return web.json_response({"object": "list", "data": [{"id": model, "object": "model"}]})

    async def start_async(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving on this event loop; return the base URL (``http://h:p/v1``)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{host}:{bound[1]}/v1"
        return self.url

    async def stop_async(self) -> None:
        """Stop serving and release the port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve from a background thread; return the base URL once it accepts."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start_async(host, port))
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_async())
            loop.close()

        self._thread = threading.Thread(target=run, name="openai-fake-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake OpenAI server did not start within 10 s")
        return self.url

    def stop(self) -> None:
        """Stop the background server and join its thread."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the chat-completion requests received so far."""
        with self._lock:
            return [r["body"] for r in self.requests]


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
    parsed = script if isinstance(script, Script) else Script.parse(script)
    server = OpenAIServer(parsed, api_key=api_key, record_path=record_path)
    server.start(host, port)
    try:
        yield server
    finally:
        server.stop()
