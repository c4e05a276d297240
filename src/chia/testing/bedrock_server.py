"""A fake Bedrock runtime serving the Converse API (``POST /model/{modelId}/converse``).

Every request must be SigV4-signed as botocore signs it for Bedrock: the
``Authorization`` header's credential scope must name service ``bedrock`` and the
configured region, the access key must be a known one, and the signature must verify
(recomputed with botocore over the signed headers, path and body, with that key's secret).
Otherwise the reply is HTTP 403 as Bedrock's own (``UnrecognizedClientException``,
``InvalidSignatureException``). Replies are Converse's ``output.message`` with text and
``toolUse`` blocks, ``stopReason`` and ``usage``; scripted errors carry the
``x-amzn-ErrorType`` header botocore reads (``ThrottlingException`` for 429...).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from chia.llm.script import Script, ScriptStep
from chia.testing.model_server import FakeModelServer, as_script, serving

__all__ = ["BedrockServer", "bedrock_server", "check_sigv4"]

_CODES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<signed>[^,]+), ?"
    r"Signature=(?P<sig>[0-9a-f]+)$"
)


def _error(
    status: int, message: str, code: str | None = None, retry_after_s: float | None = None
) -> web.Response:
    code = code or _CODES.get(status, "InternalServerException")
    headers = {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    if retry_after_s is not None:
        headers["Retry-After"] = f"{retry_after_s:g}"
    return web.json_response({"message": message}, status=status, headers=headers)


def check_sigv4(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    secrets: dict[str, str],
    region: str,
    service: str = "bedrock",
) -> dict[str, Any]:
    """Check a request's SigV4 ``Authorization``; return what was found.

    Returns:
        ``{"ok": bool, "reason": str, "key": ..., "region": ..., "service": ...}``.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    match = _AUTH.match(lowered.get("authorization", ""))
    if match is None:
        return {"ok": False, "reason": "no SigV4 Authorization header"}
    found = {k: match.group(k) for k in ("key", "region", "service")}
    if found["service"] != service or found["region"] != region:
        scope = f"{found['region']}/{found['service']}"
        return {"ok": False, "reason": f"credential scope {scope}, not {region}/{service}", **found}
    secret = secrets.get(found["key"])
    if secret is None:
        return {"ok": False, "reason": "unknown access key", **found}
    signed = match.group("signed").split(";")
    request = AWSRequest(method=method, url=url, data=body, headers={h: lowered[h] for h in signed})
    request.context["timestamp"] = lowered.get("x-amz-date", "")
    signer = SigV4Auth(
        Credentials(found["key"], secret, lowered.get("x-amz-security-token")), service, region
    )
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != match.group("sig"):
        return {"ok": False, "reason": "signature does not match", **found}
    return {"ok": True, "reason": "", **found}


class BedrockServer(FakeModelServer):
    """The fake Bedrock runtime (Converse).

    Args:
        script: The replies to replay.
        credentials: Access key id -> secret key that may sign requests.
        region: The region the credential scope must name.
        record_path: Also append every request there as JSON lines.
    """

    name = "bedrock"

    def __init__(
        self,
        script: Script,
        *,
        credentials: dict[str, str],
        region: str,
        record_path: Path | None = None,
    ) -> None:
        super().__init__(script, record_path=record_path)
        self.credentials = dict(credentials)
        self.region = region

    def add_routes(self, app: web.Application) -> None:
        """``POST /model/{modelId}/converse``."""
        app.router.add_post("/model/{model_id}/converse", self._converse)

    def error(self, step: ScriptStep) -> web.Response:
        """A scripted error with its ``x-amzn-ErrorType``."""
        return _error(step.status, step.error, step.error_code, step.retry_after_s)

    async def _converse(self, request: web.Request) -> web.Response:
        raw = await request.read()
        url = f"http://{request.host}{request.raw_path}"
        sigv4 = check_sigv4(
            request.method, url, dict(request.headers), raw, self.credentials, self.region
        )
        try:
            body = await request.json()
        except ValueError:
            body = None
        model_id = unquote(request.match_info["model_id"])
        self.record(request, body, sigv4=sigv4, model_id=model_id)
        if not sigv4["ok"]:
            code = "UnrecognizedClientException"
            if sigv4["reason"] == "signature does not match":
                code = "InvalidSignatureException"
            return _error(403, f"SigV4: {sigv4['reason']}", code)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "messages: required")
        step = await self.next_step()
        if isinstance(step, web.Response):
            return step
        return web.json_response(self._reply(step))

    def _reply(self, step: ScriptStep) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if step.content:
            content.append({"text": step.content})
        number = len(self.requests)
        for i, call in enumerate(step.tool_calls):
            tool_use = {
                "toolUseId": call.id or f"tooluse_{number:04d}_{i}",
                "name": call.name,
                "input": call.request(call.id or "").arguments,
            }
            content.append({"toolUse": tool_use})
        tokens_in, tokens_out = step.usage.prompt_tokens, step.usage.completion_tokens
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": "tool_use" if step.tool_calls else "end_turn",
            "usage": {
                "inputTokens": tokens_in,
                "outputTokens": tokens_out,
                "totalTokens": tokens_in + tokens_out,
            },
            "metrics": {"latencyMs": 1},
        }


@contextlib.contextmanager
def bedrock_server(
    script: Script | list[Any] | dict[str, Any],
    *,
    credentials: dict[str, str],
    region: str,
    record_path: Path | None = None,
) -> Iterator[BedrockServer]:
    """Run a fake Bedrock runtime for the ``with`` block; its endpoint is ``server.url``."""
    server = BedrockServer(
        as_script(script), credentials=credentials, region=region, record_path=record_path
    )
    with serving(server):
        yield server
