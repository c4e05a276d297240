"""Model errors as the policy acts on them: classify a failed call, retry what can be retried.

Every provider's SDK raises its own exceptions (openai and anthropic ``APIStatusError``,
botocore ``ClientError``, google-genai ``APIError``, httpx timeouts); :func:`classify`
reads the HTTP status, the ``Retry-After`` header and the message from whichever it
gets and returns one :class:`~chia.llm.errors.LLMCallError` with a
:data:`~chia.llm.errors.ModelErrorKind`. :func:`call_with_retries` then waits as a 429's
``Retry-After`` says, backs off on 5xx and timeouts (bounded), and gives up at once on
401/403, quota and context-length errors. SDK-level retries are switched off so that
these rules are the only ones and each wait is announced (:class:`RetryNotice`).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from chia.llm.errors import LLMCallError, ModelErrorKind

__all__ = [
    "RetryListener",
    "RetryNotice",
    "RetryPolicy",
    "call_with_retries",
    "call_with_retries_sync",
    "classify",
    "parse_retry_after",
    "retry_policy",
]

T = TypeVar("T")

_CONTEXT = re.compile(
    r"context.length|context.window|prompt is too long|input is too long|too many tokens|"
    r"maximum context|exceeds the maximum number of tokens|input token count.*exceeds|"
    r"reduce the length",
    re.IGNORECASE,
)
_QUOTA = re.compile(
    r"insufficient.quota|credit balance|billing|payment required|quota exceeded|"
    r"exceeded your current quota|ServiceQuotaExceeded",
    re.IGNORECASE,
)
_THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException"})
_AUTH_CODES = frozenset(
    {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException"}
)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status(exc: BaseException) -> int | None:
    for attr in ("status_code", "code", "status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):  # botocore ClientError
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status if isinstance(status, int) else None
    for attr in ("status_code", "status"):
        value = getattr(response, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    return None


def _headers(exc: BaseException) -> Mapping[str, str]:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return headers if isinstance(headers, Mapping) else {}
    headers = getattr(response, "headers", None)
    return headers if isinstance(headers, Mapping) else {}


def _retry_after(headers: Mapping[str, str]) -> float | None:
    lowered = {str(k).lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    return parse_retry_after(lowered.get("retry-after"))


def _aws_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _kind(status: int | None, code: str, text: str, timed_out: bool) -> ModelErrorKind:
    if code in _AUTH_CODES or status in (401, 403):
        return "auth"
    if status == 402 or _QUOTA.search(text):
        return "quota"
    if status == 429 or code in _THROTTLE_CODES:
        return "rate_limit"
    if _CONTEXT.search(text) and (status is None or 400 <= status < 500):
        return "context_length"
    if status == 408 or timed_out:
        return "timeout"
    if status is not None and status >= 500:
        return "server"
    if status is not None and 400 <= status < 500:
        return "bad_request"
    return "other"


def classify(
    exc: BaseException,
    provider: str,
    redact: Callable[[str], str] = lambda text: text,
    auth_hint: str | None = None,
) -> LLMCallError:
    """Turn whatever a provider's SDK raised into one classified :class:`LLMCallError`.

    Args:
        exc: The exception the call raised.
        provider: The provider name, for the message.
        redact: Masks secrets in the message.
        auth_hint: What to do about a 401/403 (which variable to set), if known.
    """
    if isinstance(exc, LLMCallError):
        return exc
    status: int | None = None
    retry_after: float | None = None
    code = ""
    timed_out = False
    for link in _chain(exc):
        status = status or _status(link)
        if retry_after is None:
            retry_after = _retry_after(_headers(link))
        code = code or _aws_code(link)
        name = type(link).__name__
        timed_out = timed_out or "Timeout" in name or "Connect" in name
        timed_out = timed_out or isinstance(link, (TimeoutError, ConnectionError))
    text = redact(f"{type(exc).__name__}: {exc}")
    kind = _kind(status, code, text, timed_out)
    hint = auth_hint if kind == "auth" else None
    if kind == "quota":
        hint = f"the {provider} account has no quota or credit left: add some, or change lm"
    elif kind == "context_length":
        hint = "the conversation is longer than the model's context window"
    prefix = f"{provider}" + (f" HTTP {status}" if status else "")
    return LLMCallError(
        f"{prefix}: {text}",
        kind=kind,
        provider=provider,
        status=status,
        retry_after_s=retry_after,
        hint=hint,
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How failed calls are retried.

    Attributes:
        max_retries: Retries after a 5xx or a timeout (``lm.max_retries``).
        rate_limit_retries: Retries after a 429 (at least ``max_retries``).
        backoff_s: The first backoff; each next one doubles, up to ``max_backoff_s``.
        max_backoff_s: The longest backoff.
        max_retry_after_s: The longest ``Retry-After`` honoured; a longer one fails the call.
    """

    max_retries: int = 2
    rate_limit_retries: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 300.0


@dataclass(frozen=True)
class RetryNotice:
    """One wait before a retry, for the agent's output line and event.

    Attributes:
        provider: The provider that failed.
        kind: ``rate_limit``, ``server`` or ``timeout``.
        attempt: Which retry this wait precedes (1 for the first).
        limit: How many retries this kind gets.
        wait_s: How long the wait is.
        status: The HTTP status, if any.
        retry_after_s: The ``Retry-After`` the provider sent, if any.
        error: The (redacted) error message.
    """

    provider: str
    kind: str
    attempt: int
    limit: int
    wait_s: float
    status: int | None
    retry_after_s: float | None
    error: str

    def line(self) -> str:
        """The landmark line: what failed and how long chia waits."""
        what = {"rate_limit": "rate limited", "server": "server error", "timeout": "timed out"}
        cause = what.get(self.kind, self.kind) + (f" (HTTP {self.status})" if self.status else "")
        told = " as Retry-After says" if self.retry_after_s is not None else ""
        return (
            f"model {self.provider} {cause}: waiting {self.wait_s:.1f} s{told}, "
            f"retry {self.attempt} of {self.limit}"
        )


RetryListener = Callable[[RetryNotice], None]


def retry_policy(settings: dict[str, Any]) -> RetryPolicy:
    """The retry rules ``max_retries`` and ``retry_backoff_s`` describe (both popped)."""
    return RetryPolicy(
        max_retries=int(settings.pop("max_retries", 2)),
        backoff_s=float(settings.pop("retry_backoff_s", 1.0)),
    )


def _next_wait(error: LLMCallError, attempt: int, policy: RetryPolicy) -> tuple[float, int] | None:
    """``(wait, limit)`` before retry ``attempt``, or None when the error is final."""
    if error.kind == "rate_limit":
        limit = max(policy.rate_limit_retries, policy.max_retries)
        if error.retry_after_s is not None:
            if error.retry_after_s > policy.max_retry_after_s:
                return None
            return (error.retry_after_s, limit) if attempt <= limit else None
    elif error.kind in ("server", "timeout"):
        limit = policy.max_retries
    else:
        return None
    if attempt > limit:
        return None
    backoff = min(policy.max_backoff_s, policy.backoff_s * 2 ** (attempt - 1))
    return backoff * random.uniform(0.8, 1.0), limit


def _notice(error: LLMCallError, attempt: int, wait: float, limit: int) -> RetryNotice:
    return RetryNotice(
        provider=error.provider or "model",
        kind=error.kind,
        attempt=attempt,
        limit=limit,
        wait_s=round(wait, 3),
        status=error.status,
        retry_after_s=error.retry_after_s,
        error=str(error),
    )


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    classify_error: Callable[[BaseException], LLMCallError],
    policy: RetryPolicy,
    listener: RetryListener | None = None,
) -> T:
    """Await ``call()``, retrying as :class:`RetryPolicy` says.

    Raises:
        LLMCallError: The classified error, once it is final or retries ran out.
    """
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            error = classify_error(exc)
        attempt += 1
        plan = _next_wait(error, attempt, policy)
        if plan is None:
            raise error from None
        wait, limit = plan
        if listener is not None:
            listener(_notice(error, attempt, wait, limit))
        await asyncio.sleep(wait)


def call_with_retries_sync(
    call: Callable[[], T],
    classify_error: Callable[[BaseException], LLMCallError],
    policy: RetryPolicy,
    listener: RetryListener | None = None,
) -> T:
    """Blocking :func:`call_with_retries`.

    Raises:
        LLMCallError: The classified error, once it is final or retries ran out.
    """
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:
            error = classify_error(exc)
        attempt += 1
        plan = _next_wait(error, attempt, policy)
        if plan is None:
            raise error from None
        wait, limit = plan
        if listener is not None:
            listener(_notice(error, attempt, wait, limit))
        time.sleep(wait)
