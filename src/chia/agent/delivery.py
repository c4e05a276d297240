"""The delivery contract: at-least-once delivery with idempotent receipt, in one place.

Every message between agents (and the bootstrap's kickoff) travels in an
:class:`~chia.agent.envelope.Envelope` whose ``message_id`` never changes, however many
times it is sent. The rules:

1. **The receiver acknowledges only what is on disk.** :class:`Receiver` appends the
   receive event to the agent's events file and waits for the fsync that covers it
   (:class:`~chia.events.durability.GroupCommit`) before the ``receive_message`` action
   returns: an acknowledged message survives the receiver's death, its site's loss and
   the machine's (loss window 0).
2. **The receiver drops duplicates by message id.** A message id already logged is
   acknowledged again (once it is durable) and neither logged nor queued a second time,
   so a retry never causes a second decision. The ids survive restarts (they are in the
   journal, :mod:`chia.agent.journal`).
3. **The sender retries with the same message id** (:func:`deliver`): on a timeout (a
   reply that never came: the recipient was down, or an exchange lost the request) or an
   exchange failure, with backoff, until acknowledged or until its delivery deadline
   (``limits.delivery_deadline_s``, 10 min by default: batch queues are slow). A message
   that runs out of time is reported undelivered, to the policy's next turn and as a
   ``message_undelivered`` event. A recipient that rejects a message (a malformed
   envelope) is not retried.
4. **One send path.** Agents send through :class:`Outbox` (in the background, so a turn
   never waits for a slow peer), and the bootstrap through :func:`deliver`; both end in
   :func:`_attempt`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chia.agent.envelope import Envelope
from chia.events.durability import GroupCommit
from chia.exchange.identity import agent_id
from chia.timeouts import DELIVERY_DEADLINE_S

if TYPE_CHECKING:
    from academy.handle import Handle

    from chia.agent.campaign_agent import CampaignAgent

__all__ = [
    "Ack",
    "DeliveryPolicy",
    "Outbox",
    "Outcome",
    "Receiver",
    "deliver",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard a sender tries.

    Attributes:
        deadline_s: Give up (report undelivered) after this long.
        attempt_timeout_s: How long the first attempt waits for the acknowledgement; each
            retry waits twice as long, up to ``max_attempt_timeout_s``.
        max_attempt_timeout_s: The longest wait of one attempt.
        backoff_s: Pause after a failed attempt (doubling, with jitter, up to
            ``max_backoff_s``); a timed-out attempt has waited already and retries at once.
        max_backoff_s: The longest pause.
    """

    deadline_s: float = DELIVERY_DEADLINE_S
    attempt_timeout_s: float = 3.0
    max_attempt_timeout_s: float = 30.0
    backoff_s: float = 0.1
    max_backoff_s: float = 5.0


@dataclass(frozen=True)
class Outcome:
    """How a delivery ended.

    Attributes:
        acked: The recipient acknowledged it (its receive event is on disk).
        attempts: How many times it was sent.
        reason: Why it was not acknowledged (empty when acked).
        moot: The sender stopped trying because the message was no longer needed (the
            recipient completed the campaign).
    """

    acked: bool
    attempts: int
    reason: str = ""
    moot: bool = False


@dataclass(frozen=True)
class Ack:
    """A receiver's answer to ``receive_message``."""

    message_id: str
    duplicate: bool = False

    def as_json(self) -> dict[str, Any]:
        """The JSON value the action returns."""
        return {"accepted": True, "message_id": self.message_id, "duplicate": self.duplicate}


class Rejected(Exception):
    """The recipient refused the message itself; sending it again cannot help."""


async def _attempt(
    handle: Handle[CampaignAgent], payload: dict[str, Any], timeout_s: float
) -> None:
    """Send once and wait for the acknowledgement.

    Raises:
        TimeoutError: No acknowledgement within ``timeout_s``.
        Rejected: The recipient's action raised (e.g. a malformed envelope): it arrives
            as Academy's ``AcademyRemoteError`` over a serializing exchange, as itself
            (a ``ValueError``) over the in-process one.
        Exception: Anything else is an exchange or connection failure (worth retrying).
    """
    from academy.exception import AcademyRemoteError, DeserializationMethodProhibitedError

    try:
        await asyncio.wait_for(handle.receive_message(payload), timeout_s)
    except (AcademyRemoteError, DeserializationMethodProhibitedError, ValueError) as exc:
        raise Rejected(f"{type(exc).__name__}: {exc}") from exc


async def deliver(
    envelope: Envelope,
    policy: DeliveryPolicy,
    *,
    still_needed: Callable[[], bool] | None = None,
    on_retry: Callable[[int, str], None] | None = None,
) -> Outcome:
    """Deliver ``envelope`` at least once: retry with the same id until acknowledged.

    Must run inside an exchange client context (an agent's runtime or ``user_client``).

    Args:
        envelope: The message; its ``message_id`` is what the receiver dedupes on.
        policy: Deadline, attempt timeouts and backoff.
        still_needed: Checked before every retry; returning False stops (``moot``).
        on_retry: Called with (attempt number, why the last one failed) before a retry.

    Returns:
        How it ended; never raises for a delivery failure.
    """
    from academy.handle import Handle

    handle: Handle[CampaignAgent] = Handle(agent_id(envelope.run_id, envelope.recipient))
    payload = envelope.model_dump(mode="json")
    deadline = time.monotonic() + policy.deadline_s
    timeout, pause, attempts = policy.attempt_timeout_s, policy.backoff_s, 0
    reason = ""
    while True:
        if attempts and still_needed is not None and not still_needed():
            return Outcome(acked=False, attempts=attempts, reason="no longer needed", moot=True)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Outcome(
                acked=False,
                attempts=attempts,
                reason=f"not acknowledged within {policy.deadline_s:g}s ({reason})",
            )
        attempts += 1
        try:
            await _attempt(handle, payload, min(timeout, remaining))
            return Outcome(acked=True, attempts=attempts)
        except Rejected as exc:
            return Outcome(acked=False, attempts=attempts, reason=f"rejected: {exc}")
        except (asyncio.TimeoutError, TimeoutError):
            reason = f"no acknowledgement within {min(timeout, remaining):g}s"
            timeout = min(timeout * 2, policy.max_attempt_timeout_s)
            wait = 0.0
        except Exception as exc:  # the exchange or the connection failed
            reason = f"{type(exc).__name__}: {exc}"
            wait = min(pause, policy.max_backoff_s) * (0.5 + random.random())
            pause *= 2
        log.info(
            "delivery of %s to %s: %s; retrying", envelope.message_id, envelope.recipient, reason
        )
        if on_retry is not None:
            on_retry(attempts, reason)
        await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))


class Receiver:
    """The receiving half of the contract: log once, make durable, then acknowledge.

    Args:
        name: The agent's name (a message for someone else is rejected).
        log_message: Appends the receive event for a new message and queues it for a
            turn; called once per message id.
        commit: Makes the appended receive events durable before the acknowledgement.
        seen: Message ids already logged (from the journal after a restart).
    """

    def __init__(
        self,
        name: str,
        log_message: Callable[[Envelope], None],
        commit: GroupCommit,
        seen: set[str] | None = None,
    ) -> None:
        self.name = name
        self._log_message = log_message
        self._commit = commit
        self._seen = set(seen or ())
        self.duplicates = 0

    async def accept(self, raw: dict[str, Any]) -> Ack:
        """Validate, log (first time only), wait until durable, and acknowledge.

        Raises:
            pydantic.ValidationError: For a malformed envelope.
            ValueError: For a message addressed to another agent.
        """
        message = Envelope.model_validate(raw)
        if message.recipient != self.name:
            raise ValueError(f"message for {message.recipient!r} delivered to {self.name!r}")
        duplicate = message.message_id in self._seen
        if duplicate:
            self.duplicates += 1
        else:
            self._seen.add(message.message_id)
            self._log_message(message)
        await self._commit.durable()  # a duplicate may still be on its way to the disk
        return Ack(message.message_id, duplicate=duplicate)


class Outbox:
    """Background deliveries of committed messages, each until acknowledged or too late.

    Messages to one recipient travel concurrently, except a completion notice: it says
    nothing more is coming, so it leaves only once every earlier message to that
    recipient has been settled (else it could overtake them, and its recipient stop
    before they arrive).

    Args:
        policy: How hard to try.
        on_done: Called with each envelope and its outcome (record the ack, or report
            the message undelivered).
        still_needed: Called with the recipient's name before each retry; False stops.
    """

    def __init__(
        self,
        policy: DeliveryPolicy,
        on_done: Callable[[Envelope, Outcome], Awaitable[None]],
        still_needed: Callable[[str], bool] | None = None,
    ) -> None:
        self.policy = policy
        self._on_done = on_done
        self._still_needed = still_needed
        self._tasks: set[asyncio.Task[None]] = set()
        self._by_recipient: dict[str, set[asyncio.Task[None]]] = {}

    @property
    def pending(self) -> int:
        """Deliveries not finished yet."""
        return len(self._tasks)

    def submit(self, envelope: Envelope) -> None:
        """Start delivering ``envelope`` (it must be on record as sent already)."""
        earlier = self._by_recipient.setdefault(envelope.recipient, set())
        before = list(earlier) if envelope.kind == "complete" else []
        task = asyncio.create_task(
            self._deliver(envelope, before), name=f"deliver-{envelope.message_id}"
        )
        self._tasks.add(task)
        earlier.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(earlier.discard)

    async def _deliver(self, envelope: Envelope, before: list[asyncio.Task[None]]) -> None:
        if before:
            await asyncio.gather(*before, return_exceptions=True)
        check = self._still_needed
        needed = (lambda: check(envelope.recipient)) if check is not None else None
        outcome = await deliver(envelope, self.policy, still_needed=needed)
        await self._on_done(envelope, outcome)

    async def drain(self) -> None:
        """Wait until every delivery started so far has ended."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel(self) -> None:
        """Stop every delivery (on a stop: the journal keeps them for a restart)."""
        for task in list(self._tasks):
            task.cancel()
