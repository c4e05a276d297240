"""The ``bedrock`` provider: models on AWS Bedrock over the Converse API (langchain-aws).

Credentials come from the environment as boto3 finds them: ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (/ ``AWS_SESSION_TOKEN``), or a profile (``lm.aws_profile`` or
``AWS_PROFILE``); the region from ``lm.region``, ``AWS_REGION``, ``AWS_DEFAULT_REGION`` or
the profile. Requests are SigV4-signed by botocore. The model may be a model id, a
cross-region inference profile (``us.anthropic.claude-...``) or an inference profile ARN;
an application inference profile ARN also needs ``lm.base_model`` (the model it routes
to), so nothing is looked up over the network at launch. ``thinking_budget`` applies to
Anthropic models and, as on Anthropic's own API, drops ``temperature`` and ``top_p``.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from langchain_aws import ChatBedrockConverse

from chia.llm.errors import LLMConfigError, MissingAPIKeyError
from chia.llm.langchain_chat import LangChainChatLLM
from chia.llm.model_errors import retry_policy
from chia.llm.providers._common import (
    COMMON,
    check_placeholders,
    check_settings,
    first_env,
    thinking_max_tokens,
)

__all__ = ["SETTINGS", "BedrockLLM", "is_anthropic", "make", "model_vendor"]

SETTINGS = COMMON | {"top_p", "region", "aws_profile", "base_model", "thinking_budget"}
THINKING_REFUSES = frozenset({"temperature", "top_p"})
CREDENTIAL_VARS = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"


#: Geography prefixes of cross-region inference profile ids (``us.anthropic....``).
_GEOS = frozenset({"us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"})


def model_vendor(model_id: str) -> str:
    """The vendor of a Bedrock model id (``anthropic`` for ``us.anthropic.claude-...``)."""
    parts = model_id.split(".")
    return parts[1] if len(parts) > 2 and parts[0] in _GEOS else parts[0]


def is_anthropic(model: str, base_model: str | None) -> bool:
    """True for a Claude model id, inference profile or ARN (or its base model)."""
    return "anthropic." in (base_model or model).lower()


class BedrockLLM(LangChainChatLLM):
    """A Bedrock model through langchain-aws's ChatBedrockConverse.

    Args:
        model: The model id, inference profile id or ARN.
        base_url: The runtime endpoint (default: the region's).
        api_key_env: Not used (AWS credentials come from the environment or a profile).
        system_message: The system prompt :meth:`prompt` sends.
        settings: See :data:`SETTINGS`.

    Raises:
        LLMConfigError: For an unknown setting, a placeholder, no region, no credentials,
            an unknown profile, or a thinking budget on a non-Anthropic model.
    """

    provider_name = "bedrock"

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
                "lm provider 'bedrock' takes no lm.api_key_env: AWS credentials come from "
                f"{CREDENTIAL_VARS}, or lm.aws_profile"
            )
        check_placeholders(self.provider_name, model, {"base_url": base_url, **settings})
        super().__init__(model.strip(), system_message, retry_policy(settings))
        profile = settings.pop("aws_profile", None) or first_env("AWS_PROFILE")
        session = _session(profile)
        self.region = settings.pop("region", None) or first_env("AWS_REGION", "AWS_DEFAULT_REGION")
        self.region = self.region or session.region_name
        if not self.region:
            raise LLMConfigError(
                "lm provider 'bedrock' needs lm.region (or AWS_REGION), e.g. us-east-1"
            )
        credentials = session.get_credentials()
        if credentials is None:
            raise MissingAPIKeyError(
                f"lm provider 'bedrock' found no AWS credentials: export {CREDENTIAL_VARS}, "
                "or set lm.aws_profile (keys never go in campaign or launch files)"
            )
        frozen = credentials.get_frozen_credentials()
        self._secrets = [s for s in (frozen.secret_key, frozen.token, frozen.access_key) if s]
        base_model = settings.pop("base_model", None)
        if "application-inference-profile" in self.model and not base_model:
            raise LLMConfigError(
                "lm provider 'bedrock': an application inference profile needs lm.base_model "
                "(the model id it routes to, e.g. anthropic.claude-sonnet-4-5-20250929-v1:0)"
            )
        budget = settings.pop("thinking_budget", None)
        timeout = settings.pop("timeout_s", 120.0)
        config = Config(
            connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1}
        )
        client = session.client(
            "bedrock-runtime", region_name=self.region, endpoint_url=base_url, config=config
        )
        kwargs: dict[str, Any] = {
            "model": self.model,
            "client": client,
            "bedrock_client": client,  # no control-plane calls: the profile's model is given
            "region_name": self.region,
        }
        if base_model:
            kwargs["base_model"] = base_model
        if self.model.startswith("arn:"):
            kwargs["provider"] = model_vendor(base_model or self.model.rsplit("/", 1)[-1])
        if budget is not None:
            if not is_anthropic(self.model, base_model):
                raise LLMConfigError(
                    "lm provider 'bedrock': lm.thinking_budget applies to Anthropic models "
                    f"only, not {self.model!r}"
                )
            settings["max_tokens"] = thinking_max_tokens(
                self.provider_name, budget, settings.get("max_tokens")
            )
            kwargs["additional_model_request_fields"] = {
                "thinking": {"type": "enabled", "budget_tokens": budget}
            }
            settings = {k: v for k, v in settings.items() if k not in THINKING_REFUSES}
        if is_anthropic(self.model, base_model) and "temperature" in settings:
            settings.pop("top_p", None)  # recent Claude models refuse both together
        self.thinking = budget is not None
        try:
            self.chat_model = ChatBedrockConverse(**kwargs, **settings)
        except ValueError as exc:  # pydantic's ValidationError included
            raise LLMConfigError(f"lm provider 'bedrock': {exc}") from None

    @property
    def auth_hint(self) -> str | None:
        """What to set when Bedrock refuses the credentials."""
        return (
            f"set {CREDENTIAL_VARS} to credentials allowed to call bedrock:InvokeModel "
            f"in {self.region}"
        )

    def secrets(self) -> list[str]:
        """The AWS secret key, session token and access key id."""
        return list(self._secrets)


def _session(profile: str | None) -> boto3.Session:
    try:
        return boto3.Session(profile_name=profile)
    except BotoCoreError as exc:
        raise LLMConfigError(f"lm.aws_profile {profile!r}: {exc}") from None


def make(
    model: str,
    *,
    base_url: str | None,
    api_key_env: str | None,
    system_message: str,
    settings: dict[str, Any],
) -> BedrockLLM:
    """Build the ``bedrock`` provider's model (see :class:`BedrockLLM`)."""
    return BedrockLLM(
        model,
        base_url=base_url,
        api_key_env=api_key_env,
        system_message=system_message,
        settings=settings,
    )
