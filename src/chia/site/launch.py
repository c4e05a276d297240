"""``launch.json``: the single source of a site's launch configuration.

``chia spawn-site`` writes it once; every rank reads it. Nothing is round-tripped through
argv except the path of this file.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from chia.events import write_json_atomic
from chia.exchange.settings import ExchangeSettings
from chia.names import NAME_PATTERN

__all__ = ["LAUNCH_FILE", "LauncherKind", "SiteLaunch", "site_dir"]

LAUNCH_FILE = "launch.json"
LauncherKind = Literal["local", "mpiexec", "ray"]


def site_dir(runs_dir: Path, run_id: str, site: str) -> Path:
    """Return ``<runs>/<run_id>/<site>``."""
    return runs_dir / run_id / site


class SiteLaunch(BaseModel):
    """Everything a rank needs to host its agent. Holds no secrets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str = Field(pattern=NAME_PATTERN)
    site: str = Field(pattern=NAME_PATTERN)
    profile: str
    campaign_path: Path
    agents: list[str] = Field(min_length=1, description="The slice; rank i hosts agents[i].")
    exchange: ExchangeSettings
    launcher: LauncherKind
    site_dir: Path
    startup_timeout_s: float = Field(gt=0)
    bootstrap: bool = Field(description="Send the kickoff if this site hosts initial_agent.")
    created: AwareDatetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def path(self) -> Path:
        """Where this launch is written."""
        return self.site_dir / LAUNCH_FILE

    def agent_for_rank(self, rank: int) -> str:
        """Return the agent rank ``rank`` hosts.

        Raises:
            IndexError: If the rank is outside the slice.
        """
        if not 0 <= rank < len(self.agents):
            raise IndexError(f"rank {rank} is outside the slice of {len(self.agents)} agents")
        return self.agents[rank]

    def write(self) -> Path:
        """Write ``launch.json`` atomically and return its path."""
        write_json_atomic(self.path, self.model_dump(mode="json"))
        return self.path

    @classmethod
    def read(cls, path: Path) -> SiteLaunch:
        """Read a ``launch.json``."""
        return cls.model_validate_json(path.read_bytes())
