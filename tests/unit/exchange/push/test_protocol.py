"""Frames of the push protocol: what parses, and the error each bad frame gets."""

from __future__ import annotations

import json

import pytest

from chia.exchange.push.protocol import (
    PROTOCOL_VERSION,
    ErrorCode,
    FrameError,
    deliver_frame,
    error_frame,
    parse_frame,
    reply_frame,
)


def test_a_good_send_parses_with_its_fields() -> None:
    text = json.dumps(
        {"op": "send", "id": 3, "dest": "d", "src": "s", "kind": "request", "tag": "t", "msg": "{}"}
    )
    frame = parse_frame(text)
    assert frame.op == "send"
    assert frame.request_id == 3
    assert frame.fields["msg"] == "{}"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"id": 1}', "unknown op None"),
        ('{"op": "launch", "id": 1}', "unknown op 'launch'"),
        ('{"op": "status", "id": 1}', "'uid' missing"),
        ('{"op": "status", "id": 1, "uid": 5}', "'uid' missing or not a string"),
        ('{"op": "ack", "upto": true}', "'upto' missing or not an integer"),
        ('{"op": "status", "id": "1", "uid": "u"}', "'id' missing or not an integer"),
    ],
)
def test_malformed_frames_are_bad_frame_errors(text: str, needle: str) -> None:
    with pytest.raises(FrameError) as info:
        parse_frame(text)
    assert info.value.code == ErrorCode.BAD_FRAME
    assert needle in info.value.message


def test_the_request_id_is_kept_when_the_rest_is_bad() -> None:
    with pytest.raises(FrameError) as info:
        parse_frame('{"op": "status", "id": 7}')
    assert info.value.request_id == 7


def test_another_protocol_version_is_named_before_its_fields() -> None:
    with pytest.raises(FrameError) as info:
        parse_frame('{"op": "hello", "v": 2, "something": "else"}')
    assert info.value.code == ErrorCode.VERSION
    assert f"v2, this server speaks v{PROTOCOL_VERSION}" in info.value.message


def test_server_frames_are_json() -> None:
    assert json.loads(reply_frame(4, state="active")) == {"op": "reply", "id": 4, "state": "active"}
    assert json.loads(error_frame("bad_frame", "x")) == {
        "op": "error",
        "id": None,
        "code": "bad_frame",
        "message": "x",
    }
    message = '{"quote": "\\"", "nl": "\\n", "u": "\u00e9"}'
    assert json.loads(deliver_frame(9, message)) == {"op": "deliver", "seq": 9, "msg": message}
