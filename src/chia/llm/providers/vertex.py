"""The ``vertex`` provider: Gemini on Vertex AI, through langchain-google-genai.

langchain-google-genai with ``vertexai=True`` (on the google-genai SDK) is Google's
maintained path to Gemini on Vertex; langchain-google-vertexai's ChatVertexAI now points
there. Credentials are application-default credentials (``GOOGLE_APPLICATION_CREDENTIALS``
or ``gcloud auth application-default login``), sent as a bearer token; the project comes
from ``lm.project``, ``GOOGLE_CLOUD_PROJECT`` or the credentials, the location from
``lm.location``, ``GOOGLE_CLOUD_LOCATION`` or ``us-central1``. Gemini takes sampling knobs
with thinking on, so none are dropped; ``thinking_budget`` sets the thinking tokens
(0 turns thinking off where the model allows it).
"""

from __future__ import annotations

from typing import Any

import google.auth
from google.auth.exceptions import DefaultCredentialsError
from langchain_google_genai import ChatGoogleGenerativeAI

from chia.llm.errors import LLMConfigError, MissingAPIKeyError
from chia.llm.langchain_chat import LangChainChatLLM
from chia.llm.model_errors import retry_policy
from chia.llm.providers._common import COMMON, check_placeholders, check_settings, first_env

__all__ = ["DEFAULT_LOCATION", "SCOPES", "SETTINGS", "VertexLLM", "make"]

SETTINGS = COMMON | {"top_p", "top_k", "project", "location", "thinking_budget"}
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
DEFAULT_LOCATION = "us-central1"
CREDENTIAL_VARS = "GOOGLE_APPLICATION_CREDENTIALS"


class VertexLLM(LangChainChatLLM):
    """Gemini on Vertex AI through ChatGoogleGenerativeAI (``vertexai=True``).

    Args:
        model: The model name (``gemini-2.5-flash``...).
        base_url: The API root (default: the location's Vertex endpoint).
        api_key_env: Not used (application-default credentials).
        system_message: The system prompt :meth:`prompt` sends.
        settings: See :data:`SETTINGS`.

    Raises:
        LLMConfigError: For an unknown setting, a placeholder, no credentials or no
            project.
    """

    provider_name = "vertex"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str | None = None,
        system_message: str = "",
        settings: dict[str, Any] | None = None,
    ) -> None:
        settings = dict(settings or {})
        check_settings(self.provider_name, settings, SETTINGS)
        if api_key_env:
            raise LLMConfigError(
                "lm provider 'vertex' takes no lm.api_key_env: it uses application-default "
                f"credentials ({CREDENTIAL_VARS}, or gcloud auth application-default login)"
            )
        check_placeholders(self.provider_name, model, {"base_url": base_url, **settings})
        super().__init__(model.strip(), system_message, retry_policy(settings))
        try:
            credentials, adc_project = google.auth.default(scopes=list(SCOPES))
        except DefaultCredentialsError as exc:
            raise MissingAPIKeyError(
                f"lm provider 'vertex' found no application-default credentials: export "
                f"{CREDENTIAL_VARS}=<credentials file>, or run gcloud auth "
                f"application-default login ({exc})"
            ) from None
        self.credentials = credentials
        self.project = settings.pop("project", None) or first_env("GOOGLE_CLOUD_PROJECT")
        self.project = self.project or adc_project
        if not self.project:
            raise LLMConfigError(
                "lm provider 'vertex' needs lm.project (or GOOGLE_CLOUD_PROJECT): the Google "
                "Cloud project Vertex AI bills"
            )
        location = settings.pop("location", None) or first_env("GOOGLE_CLOUD_LOCATION")
        self.location = location or DEFAULT_LOCATION
        kwargs: dict[str, Any] = {
            "model": self.model,
            "vertexai": True,
            "project": self.project,
            "location": self.location,
            "credentials": credentials,
            "timeout": settings.pop("timeout_s", 120.0),
            "max_retries": 1,  # one attempt: chia retries
        }
        if base_url:
            kwargs["base_url"] = base_url
        try:
            self.chat_model = ChatGoogleGenerativeAI(**kwargs, **settings)
        except ValueError as exc:  # pydantic's ValidationError included
            raise LLMConfigError(f"lm provider 'vertex': {exc}") from None

    @property
    def auth_hint(self) -> str | None:
        """What to set when Vertex refuses the credentials."""
        return (
            f"set {CREDENTIAL_VARS} to credentials allowed to use Vertex AI in project "
            f"{self.project} (or run gcloud auth application-default login)"
        )

    def secrets(self) -> list[str]:
        """The current access token and any refresh token or client secret."""
        found = (getattr(self.credentials, k, None) for k in ("token", "refresh_token"))
        kept = [s for s in found if isinstance(s, str) and s]
        secret = getattr(self.credentials, "client_secret", None)
        return [*kept, secret] if isinstance(secret, str) and secret else kept


def make(
    model: str,
    *,
    base_url: str | None,
    api_key_env: str | None,
    system_message: str,
    settings: dict[str, Any],
) -> VertexLLM:
    """Build the ``vertex`` provider's model (see :class:`VertexLLM`)."""
    return VertexLLM(
        model,
        base_url=base_url,
        api_key_env=api_key_env,
        system_message=system_message,
        settings=settings,
    )
