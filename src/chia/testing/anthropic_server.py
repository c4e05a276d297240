"""A fake Anthropic Messages API (``POST /v1/messages``) that replays a reply script.

It checks what the real API checks first: the key (``x-api-key``, or the bearer token
anthropic SDK 2.x sends instead; HTTP 401 ``authentication_error`` when it differs) and
``anthropic-version`` (400 when missing). With
extended thinking on it refuses ``temperature``/``top_k`` as the real API does, and a
continued tool loop whose last assistant turn does not start with its thinking block.
Replies carry ``content`` blocks (thinking, text, tool_use), ``stop_reason`` and usage;
scripted errors use the API's error types and may carry ``Retry-After``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from chia.llm.script import Script, ScriptStep
from chia.testing.model_server import FakeModelServer, as_script, serving

__all__ = ["AnthropicServer", "anthropic_server"]

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def _error(
    status: int, message: str, kind: str | None = None, retry_after_s: float | None = None
) -> web.Response:
    kind = kind or _TYPES.get(status, "api_error")
    body = {"type": "error", "error": {"type": kind, "message": message}}
    headers = {"retry-after": f"{retry_after_s:g}"} if retry_after_s is not None else None
    return web.json_response(body, status=status, headers=headers)


def _thinking_problem(body: dict[str, Any]) -> str | None:
    if (body.get("thinking") or {}).get("type") != "enabled":
        return None
    for knob in ("temperature", "top_k"):
        if knob in body and not (knob == "temperature" and body[knob] == 1):
            return f"`{knob}` may not be set while thinking is enabled"
    messages = body.get("messages") or []
    assistants = [m for m in messages if m.get("role") == "assistant"]
    if assistants and messages[-1].get("role") == "user":
        last = assistants[-1].get("content")
        blocks = last if isinstance(last, list) else [{"type": "text", "text": last}]
        if any(b.get("type") == "tool_use" for b in blocks) and (
            blocks[0].get("type") not in ("thinking", "redacted_thinking")
        ):
            return (
                "Expected `thinking` or `redacted_thinking`, but found "
                f"`{blocks[0].get('type')}`: the last assistant message must start with "
                "its thinking block when thinking is enabled"
            )
    return None


def _presented_key(request: web.Request) -> str | None:
    """The key as sent: ``x-api-key``, or ``Authorization: Bearer`` (anthropic SDK 2.x)."""
    key = request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


class AnthropicServer(FakeModelServer):
    """The fake Messages API.

    Args:
        script: The replies to replay.
        api_key: The key ``x-api-key`` must carry (None: any).
        record_path: Also append every request there as JSON lines.
    """

    name = "anthropic"

    def __init__(
        self, script: Script, *, api_key: str | None = None, record_path: Path | None = None
    ) -> None:
        super().__init__(script, record_path=record_path)
        self.api_key = api_key

    def add_routes(self, app: web.Application) -> None:
        """``POST /v1/messages``."""
        app.router.add_post("/v1/messages", self._messages)

    def error(self, step: ScriptStep) -> web.Response:
        """A scripted error in the API's ``{"type": "error"}`` form."""
        return _error(step.status, step.error, step.error_code, step.retry_after_s)

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "request body is not JSON")
        number = self.record(request, body)
        if self.api_key is not None and _presented_key(request) != self.api_key:
            return _error(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return _error(400, "anthropic-version header is required")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "messages: field required")
        if "max_tokens" not in body:
            return _error(400, "max_tokens: field required")
        problem = _thinking_problem(body)
        if problem is not None:
            return _error(400, problem)
        step = await self.next_step()
        if isinstance(step, web.Response):
            return step
        return web.json_response(self._reply(step, body, number))

    def _reply(self, step: ScriptStep, body: dict[str, Any], number: int) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if (body.get("thinking") or {}).get("type") == "enabled":
            text = step.thinking or "Thinking about the next step."
            content.append({"type": "thinking", "thinking": text, "signature": f"sig-{number}"})
        if step.content:
            content.append({"type": "text", "text": step.content})
        for i, call in enumerate(step.tool_calls):
            arguments = call.request(call.id or "").arguments
            call_id = call.id or f"toolu_{number:04d}_{i}"
            content.append(
                {"type": "tool_use", "id": call_id, "name": call.name, "input": arguments}
            )
        cached = min(step.usage.cached_tokens, step.usage.prompt_tokens)
        return {
            "id": f"msg_{number:06d}",
            "type": "message",
            "role": "assistant",
            "model": self.script.model or str(body.get("model", "claude-fake")),
            "content": content,
            "stop_reason": "tool_use" if step.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": {  # Anthropic counts cache reads apart from input_tokens
                "input_tokens": step.usage.prompt_tokens - cached,
                "cache_read_input_tokens": cached,
                "output_tokens": step.usage.completion_tokens,
            },
        }


@contextlib.contextmanager
def anthropic_server(
    script: Script | list[Any] | dict[str, Any],
    *,
    api_key: str | None = None,
    record_path: Path | None = None,
) -> Iterator[AnthropicServer]:
    """Run a fake Messages API for the ``with`` block; its root URL is ``server.url``."""
    server = AnthropicServer(as_script(script), api_key=api_key, record_path=record_path)
    with serving(server):
        yield server
