"""Reasoning models reject sampling knobs: detect them so those knobs are never sent.

OpenAI's gpt-5 family and the o1/o3/o4 series answer HTTP 400 to any non-default
``temperature``. Gateways spell them differently (Argo:
``gpt5mini``, ``gpto3mini``; OpenRouter: ``openai/gpt-5-mini``), so detection looks at
the last path segment and accepts those spellings too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["SAMPLING_KNOBS", "drop_sampling_knobs", "is_reasoning_model"]

#: Settings a reasoning model rejects; they are dropped, never sent.
SAMPLING_KNOBS = frozenset(
    {"temperature", "top_p", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs"}
)

# gpt-5, gpt5, gpt-5.1-mini, gpt5mini; o1, o3-mini, o4-mini; Argo's gpto1preview, gpto3mini.
_REASONING = re.compile(r"^(?:gpt-?5|gpt-?o[134]|o[134])(?![0-9])", re.IGNORECASE)
# gpt-5-chat takes a temperature like any chat model.
_CHAT_VARIANT = re.compile(r"^gpt-?5[\w.-]*-chat", re.IGNORECASE)


def is_reasoning_model(model: str) -> bool:
    """Return True if ``model`` is a reasoning model that rejects sampling knobs.

    Args:
        model: The model name as sent to the provider, with or without a gateway prefix
            (``openai/gpt-5-mini``).
    """
    name = model.strip().rsplit("/", 1)[-1]
    return bool(_REASONING.match(name)) and not _CHAT_VARIANT.match(name)


def drop_sampling_knobs(model: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``settings`` without sampling knobs when ``model`` is a reasoning model."""
    if not is_reasoning_model(model):
        return dict(settings)
    return {key: value for key, value in settings.items() if key not in SAMPLING_KNOBS}
