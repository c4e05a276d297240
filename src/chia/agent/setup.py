"""What the host process hands a campaign agent: identity, limits, peers, files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from academy.identifier import AgentId

from chia.agent.delivery import DeliveryPolicy
from chia.agent.journal import Journal
from chia.campaign.model import AgentSpec, Limits
from chia.events import EventWriter
from chia.events.durability import FsyncMode

__all__ = ["AgentSetup"]


@dataclass
class AgentSetup:
    """Everything the host process hands a campaign agent."""

    run_id: str
    site: str
    spec: AgentSpec
    task: str
    limits: Limits
    uid: str
    peers: dict[str, AgentId[Any]]
    writer: EventWriter
    status_path: Path
    journal: Journal | None = None
    fsync: FsyncMode = "batch"
    rank: int | None = None
    landmark: Callable[[str], None] = field(default=lambda text: None)

    @property
    def delivery(self) -> DeliveryPolicy:
        """How this agent's sends are retried (deadline from the campaign's limits)."""
        return DeliveryPolicy(deadline_s=self.limits.delivery_deadline_s)
