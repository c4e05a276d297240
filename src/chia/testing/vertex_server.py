"""A fake Vertex AI serving Gemini's ``generateContent``, with its own OAuth token endpoint.

Tests write an application-default credentials file (a ``service_account`` JSON with a
fresh RSA key; :func:`write_adc_file`) whose ``token_uri`` is this server's ``/token``:
google-auth signs a JWT grant with that key and exchanges it for an access token there,
as it would at Google's (the server verifies the JWT's signature, issuer and audience),
and every ``generateContent`` request must carry that token as ``Authorization: Bearer``
(else HTTP 401 ``UNAUTHENTICATED``). The path must name the configured project and
location (``/{version}/projects/{p}/locations/{l}/publishers/google/models/{model}:
generateContent``; else 403 ``PERMISSION_DENIED``), and for Gemini 3 models every model
turn sent back must keep its first function call's ``thoughtSignature`` (else 400, as the
real API does). Replies are ``candidates`` with text and ``functionCall`` parts (the first
signed) and ``usageMetadata``; scripted errors use Google's
``{"error": {"code", "message", "status"}}`` form and may carry ``Retry-After``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.auth.jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typing_extensions import Self

from chia.llm.script import Script, ScriptStep
from chia.testing.model_server import FakeModelServer, as_script, serving

__all__ = ["ServiceAccount", "VertexServer", "vertex_server", "write_adc_file"]

_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: The audience google-auth signs service-account grants for, wherever token_uri points.
_GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _error(
    status: int, message: str, code: str | None = None, retry_after_s: float | None = None
) -> web.Response:
    body = {"error": {"code": status, "message": message, "status": code or _STATUS.get(status)}}
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else None
    return web.json_response(body, status=status, headers=headers)


def _unsigned_call(contents: list[Any]) -> bool:
    """True when a model turn's first function call comes back without its signature."""
    for content in contents:
        calls = [p for p in content.get("parts", []) if "functionCall" in p]
        if content.get("role") == "model" and calls and not calls[0].get("thoughtSignature"):
            return True
    return False


class VertexServer(FakeModelServer):
    """The fake Vertex AI endpoint and token endpoint.

    Args:
        script: The replies to replay.
        project: The project the path must name.
        location: The location the path must name.
        client_email: The service account whose JWT grants ``/token`` accepts.
        public_key_pem: Its public key (PEM), to verify the grants.
        record_path: Also append every request there as JSON lines.
    """

    name = "vertex"

    def __init__(
        self,
        script: Script,
        *,
        project: str,
        location: str,
        client_email: str,
        public_key_pem: bytes,
        record_path: Path | None = None,
    ) -> None:
        super().__init__(script, record_path=record_path)
        self.project = project
        self.location = location
        self.client_email = client_email
        self.public_key_pem = public_key_pem
        self.access_tokens: list[str] = []
        self.signatures: list[str] = []  # the thought signatures it issued
        #: The service account whose grants are accepted, when this server made it.
        self.account: ServiceAccount | None = None
        self.token_requests = 0

    def add_routes(self, app: web.Application) -> None:
        """``POST /token`` and the ``generateContent`` path."""
        app.router.add_post("/token", self._token)
        app.router.add_post(
            "/{version}/projects/{project}/locations/{location}/publishers/google/models/{call}",
            self._generate,
        )

    def error(self, step: ScriptStep) -> web.Response:
        """A scripted error in Google's form."""
        return _error(step.status, step.error, step.error_code, step.retry_after_s)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests += 1
        try:
            claims = google.auth.jwt.decode(  # type: ignore[no-untyped-call]
                str(form.get("assertion", "")),
                certs=self.public_key_pem,
                audience=[_GOOGLE_TOKEN_URI, f"{self.url}/token"],
            )
        except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
            return web.json_response(
                {"error": "invalid_grant", "error_description": str(exc)}, status=400
            )
        if form.get("grant_type") != _JWT_GRANT or claims.get("iss") != self.client_email:
            return web.json_response({"error": "invalid_grant"}, status=400)
        token = "ya29.fake-" + secrets.token_hex(16)
        self.access_tokens.append(token)
        return web.json_response(
            {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        )

    async def _generate(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        model, _, method = request.match_info["call"].partition(":")
        bearer = request.headers.get("Authorization", "")
        token = bearer[len("Bearer ") :] if bearer.startswith("Bearer ") else ""
        self.record(request, body, model=model, bearer_ok=token in self.access_tokens)
        if method != "generateContent":
            return _error(404, f"method {method!r} is not served by the fake server")
        if token not in self.access_tokens:
            return _error(401, "Request had invalid authentication credentials.")
        where = (request.match_info["project"], request.match_info["location"])
        if where != (self.project, self.location):
            return _error(403, f"Permission denied on projects/{where[0]}/locations/{where[1]}")
        if not isinstance(body, dict) or not isinstance(body.get("contents"), list):
            return _error(400, "contents: required")
        if model.startswith("gemini-3") and _unsigned_call(body["contents"]):
            return _error(
                400, "Function call is missing a thought_signature in functionCall parts."
            )
        step = await self.next_step()
        if isinstance(step, web.Response):
            return step
        return web.json_response(self._reply(step, model))

    def _reply(self, step: ScriptStep, model: str) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        if step.content:
            parts.append({"text": step.content})
        for i, call in enumerate(step.tool_calls):
            arguments = call.request(call.id or "").arguments
            part: dict[str, Any] = {"functionCall": {"name": call.name, "args": arguments}}
            if i == 0:  # Gemini signs the first function call of a turn
                signature = base64.b64encode(secrets.token_bytes(12)).decode()
                part["thoughtSignature"] = signature
                self.signatures.append(signature)
            parts.append(part)
        tokens_in, tokens_out = step.usage.prompt_tokens, step.usage.completion_tokens
        return {
            "candidates": [
                {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": tokens_in,
                "candidatesTokenCount": tokens_out,
                "totalTokenCount": tokens_in + tokens_out,
            },
            "modelVersion": self.script.model or model,
        }


@dataclass(frozen=True)
class ServiceAccount:
    """A made-up service account: its email, RSA key pair and key id."""

    email: str
    private_key_pem: str
    public_key_pem: bytes
    key_id: str

    @classmethod
    def generate(cls, email: str = "chia-test@fake-project.iam.gserviceaccount.com") -> Self:
        """A fresh 2048-bit key pair."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(email, private, public, secrets.token_hex(20))


def write_adc_file(path: Path, account: ServiceAccount, token_uri: str, project: str) -> Path:
    """Write a ``service_account`` credentials file whose tokens come from ``token_uri``."""
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": account.key_id,
        "private_key": account.private_key_pem,
        "client_email": account.email,
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    path.chmod(0o600)
    return path


@contextlib.contextmanager
def vertex_server(
    script: Script | list[Any] | dict[str, Any],
    *,
    project: str,
    location: str,
    account: ServiceAccount,
    record_path: Path | None = None,
) -> Iterator[VertexServer]:
    """Run a fake Vertex AI for the ``with`` block; its root URL is ``server.url``."""
    server = VertexServer(
        as_script(script),
        project=project,
        location=location,
        client_email=account.email,
        public_key_pem=account.public_key_pem,
        record_path=record_path,
    )
    with serving(server):
        yield server
