"""The push exchange's wire protocol: JSON text frames over one WebSocket per client.

A client opens ``ws://host:port/v1/push`` (with ``Authorization: Bearer <token>`` when the
server has a token) and speaks first:

* ``hello`` ``{"op": "hello", "v": 1, "mailbox": uid, "role": "user"|"agent", "name",
  "ensure": bool}`` binds the connection to one mailbox. The server answers ``welcome``
  ``{"v": 1, "max_message_bytes": N}``, or an ``error`` with code ``version`` and closes
  when ``v`` is not its own.

Then requests, each with a client-chosen ``id`` echoed by the server's ``reply`` (or
``error``): ``register``, ``send``, ``listen``, ``heartbeat``, ``status``, ``discover``,
``terminate``, ``stats``. ``ack`` ``{"upto": seq}`` has no reply; any request may carry
the same as an ``ack`` field (handled first), so an agent's reply acknowledges the request
it answers without a frame of its own. The server pushes
``deliver`` ``{"seq": n, "msg": "<Academy message JSON>"}`` frames to a connection that
sent ``listen``, in the order the messages reached the server from each sender.

The Academy message travels as a JSON *string* inside the frame: the server never parses
it (it reads the routing fields next to it), so it costs one string copy, not a parse and
a re-serialization.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "CLIENT_OPS",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "PATH",
    "PROTOCOL_VERSION",
    "ErrorCode",
    "Frame",
    "FrameError",
    "deliver_frame",
    "error_frame",
    "parse_frame",
    "reply_frame",
]

#: The protocol version every frame exchange starts with (``hello.v``/``welcome.v``).
PROTOCOL_VERSION: Final = 1
#: The WebSocket endpoint.
PATH: Final = "/v1/push"
#: Default cap on one Academy message (what Academy's HTTP exchange caps too).
DEFAULT_MAX_MESSAGE_BYTES: Final = 512 * 1024


class ErrorCode:
    """The ``code`` of an ``error`` frame.

    Attributes:
        BAD_FRAME: Not JSON, not an object, a binary frame, an unknown op or a bad field.
        VERSION: ``hello.v`` is not the server's protocol version (the connection closes).
        NOT_BOUND: A request before ``hello``.
        TOO_LARGE: A message over ``max_message_bytes``.
        UNKNOWN_MAILBOX: The destination or subject mailbox does not exist.
        TERMINATED: The mailbox was terminated.
    """

    BAD_FRAME: Final = "bad_frame"
    VERSION: Final = "version"
    NOT_BOUND: Final = "not_bound"
    TOO_LARGE: Final = "too_large"
    UNKNOWN_MAILBOX: Final = "unknown_mailbox"
    TERMINATED: Final = "terminated"


#: Request ops and the fields each requires (name -> JSON type).
CLIENT_OPS: Final[dict[str, dict[str, type | tuple[type, ...]]]] = {
    "hello": {"v": int, "mailbox": str, "role": str},
    "register": {"id": int, "uid": str, "mro": list},
    "send": {"id": int, "dest": str, "src": str, "kind": str, "tag": str, "msg": str},
    "listen": {"id": int},
    "ack": {"upto": int},
    "heartbeat": {"id": int},
    "status": {"id": int, "uid": str},
    "discover": {"id": int, "agent": str, "subclasses": bool},
    "terminate": {"id": int, "uid": str},
    "stats": {"id": int, "uid": str},
}


class FrameError(Exception):
    """A frame the server (or client) cannot act on.

    Args:
        code: One of :class:`ErrorCode`.
        message: What is wrong, for the peer and one log line.
        request_id: The ``id`` of the offending request, when it had a usable one.
    """

    def __init__(self, code: str, message: str, request_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True)
class Frame:
    """A parsed, checked client frame: its op and its fields."""

    op: str
    fields: dict[str, Any]

    @property
    def request_id(self) -> int | None:
        """The request's ``id`` (``ack`` and ``hello`` have none)."""
        value = self.fields.get("id")
        return value if isinstance(value, int) else None


def parse_frame(text: str) -> Frame:
    """Parse and check one client frame.

    Args:
        text: The text of one WebSocket frame.

    Returns:
        The frame, its required fields present with the right JSON types.

    Raises:
        FrameError: With code ``bad_frame`` for anything malformed.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FrameError(ErrorCode.BAD_FRAME, f"frame is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FrameError(ErrorCode.BAD_FRAME, "frame is not a JSON object")
    raw_id = data.get("id")
    request_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
    op = data.get("op")
    required = CLIENT_OPS.get(op) if isinstance(op, str) else None
    if required is None:
        raise FrameError(ErrorCode.BAD_FRAME, f"unknown op {op!r}", request_id)
    if op == "hello" and data.get("v") != PROTOCOL_VERSION:
        # Checked before the fields: another version may name them differently.
        raise FrameError(
            ErrorCode.VERSION,
            f"client speaks push protocol v{data.get('v')}, this server speaks "
            f"v{PROTOCOL_VERSION}: use the same chia version on both ends",
        )
    for name, kind in required.items():
        value = data.get(name)
        # bool is an int in Python, never in this protocol.
        wrong = isinstance(value, bool) and kind is not bool
        if wrong or not isinstance(value, kind):
            raise FrameError(
                ErrorCode.BAD_FRAME,
                f"{op}: field {name!r} missing or not {_json_type(kind)}",
                request_id,
            )
    return Frame(op=op, fields=data)  # type: ignore[arg-type]


def _json_type(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", str: "a string", list: "a list", bool: "a boolean"}
    return names.get(kind, "valid") if isinstance(kind, type) else "valid"


def reply_frame(request_id: int, **fields: Any) -> str:
    """A ``reply`` frame to request ``request_id``."""
    return json.dumps({"op": "reply", "id": request_id, **fields})


def error_frame(code: str, message: str, request_id: int | None = None) -> str:
    """An ``error`` frame (``id`` is null when the offending frame had none)."""
    return json.dumps({"op": "error", "id": request_id, "code": code, "message": message})


def deliver_frame(seq: int, msg: str) -> str:
    """A ``deliver`` frame carrying one Academy message (its JSON text)."""
    return f'{{"op":"deliver","seq":{seq},"msg":{json.dumps(msg)}}}'
