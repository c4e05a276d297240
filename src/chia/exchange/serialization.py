"""JSON-only requests: how chia refuses Academy's default pickle serialization.

Academy serializes action arguments, results and exceptions per request: each
``ActionRequest`` names its own strategy (``pickle`` by default, or ``json``), and the
receiver deserializes with whatever strategy the message names, unless that strategy is
outside the ``academy.serialize.allowed_deserializers`` context variable. So anyone who can
write to a mailbox could make an agent unpickle a payload. The strategy travels inside the
message, which makes this independent of the exchange kind: the same two settings work on
local, redis, hybrid and http.

The two seams (both public Academy API):

* Agents: run every ``Runtime`` with :func:`runtime_config`, whose
  ``default_serializer=JSON`` makes the agent's own outgoing requests JSON and whose
  ``allowed_deserializers={JSON}`` makes a pickled request fail with
  ``DeserializationMethodProhibitedError`` *before* its payload is touched (the caller
  gets that error back; the action never runs).
* Users (bootstrap, ``wait_for_peers``, benchmarks): run inside :func:`json_only`, which
  sets the same two context variables for the current task and the tasks it creates, so
  requests go out as JSON and a pickled *result* from a hostile peer is refused too.

The local exchange never serializes at all (message objects are handed over in-process),
so there is nothing to deserialize and nothing to refuse there.

Consequence for callers: action arguments and results must be JSON values (dict, list,
str, int, float, bool, None). Send pydantic models as ``model.model_dump(mode="json")``
and validate them again on the other side. Tuples arrive as lists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from academy.runtime import RuntimeConfig

__all__ = ["json_only", "runtime_config"]


def runtime_config(**overrides: Any) -> RuntimeConfig:
    """Return the Academy ``RuntimeConfig`` every chia agent runs with.

    JSON in and out, pickle refused, and mailboxes never terminated on shutdown (a
    terminated uid cannot be reused reliably: Redis leaves a close marker in the queue
    and the HTTP server keeps a gravestone, so an agent restarted under the same
    deterministic uid would never hear from its peers).

    Actions running at shutdown finish instead of being cancelled: chia's actions are
    short (a message receive answers once its event is on disk), and a receive cut off
    at shutdown answers ``ActionCancelledError`` to a message it has already logged, so
    its sender retries, to an agent that is gone, until its delivery deadline (seen at
    the end of the fault-flood campaign when one agent finished on its own).

    Args:
        overrides: Other ``RuntimeConfig`` fields (e.g. ``max_sync_concurrency``).
            ``default_serializer`` and ``allowed_deserializers`` cannot be overridden.

    Raises:
        ValueError: If an override tries to change the serialization settings.
    """
    from academy.runtime import RuntimeConfig
    from academy.serialize import SerializationStrategy

    for key in ("default_serializer", "allowed_deserializers"):
        if key in overrides:
            raise ValueError(f"{key} is fixed to JSON by chia; it cannot be overridden")
    fields: dict[str, Any] = {
        "terminate_on_success": False,
        "terminate_on_error": False,
        "cancel_actions_on_shutdown": False,
    }
    fields.update(overrides)
    return RuntimeConfig(
        default_serializer=SerializationStrategy.JSON,
        allowed_deserializers={SerializationStrategy.JSON},
        **fields,
    )


@contextlib.contextmanager
def json_only() -> Iterator[None]:
    """Send requests as JSON and refuse pickled payloads within this block.

    Sets Academy's ``default_serializer`` and ``allowed_deserializers`` context variables
    for the current task (and tasks created inside the block), then restores them.
    """
    from academy.serialize import (
        SerializationStrategy,
        allowed_deserializers,
        default_serializer,
    )

    serializer_token = default_serializer.set(SerializationStrategy.JSON)
    allowed_token = allowed_deserializers.set({SerializationStrategy.JSON})
    try:
        yield
    finally:
        allowed_deserializers.reset(allowed_token)
        default_serializer.reset(serializer_token)
