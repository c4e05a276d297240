from __future__ import annotations

import pytest
from pydantic import ValidationError

from chia.agent import Envelope


def test_envelope_round_trips_as_plain_json():
    envelope = Envelope(run_id="r", sender="a", recipient="b", content="hi", clock=3)
    data = envelope.model_dump(mode="json")
    assert Envelope.model_validate(data) == envelope
    assert data["kind"] == "chat" and len(data["message_id"]) == 32


@pytest.mark.parametrize(
    "change",
    [{"recipient": "bad name"}, {"kind": "gossip"}, {"clock": -1}, {"extra": 1}],
)
def test_malformed_envelopes_are_rejected(change):
    data = {"run_id": "r", "sender": "a", "recipient": "b", "content": "x", **change}
    with pytest.raises(ValidationError):
        Envelope.model_validate(data)
