from __future__ import annotations

from chia.campaign import ResourceSpec, load_campaign
from chia.site.bootstrap import kickoff_envelope


def test_kickoff_carries_task_and_resources():
    spec = load_campaign("federated-chat").spec
    envelope = kickoff_envelope(spec, "r", "agent-aurora")
    assert envelope.kind == "kickoff" and envelope.sender == "campaign"
    assert envelope.content == spec.user_task
    with_resources = spec.model_copy(
        update={"resources": [ResourceSpec(name="mol", kind="json", value={"smiles": "CCO"})]}
    )
    assert '"smiles": "CCO"' in kickoff_envelope(with_resources, "r", "agent-crux").content
