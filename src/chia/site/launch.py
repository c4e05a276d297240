"""``launch.json``: the single source of a site's launch configuration.

``chia spawn-site`` writes it once; every rank reads it. Nothing is round-tripped through
argv except the path of this file.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from chia.campaign.model import LMSettings
from chia.events import write_json_atomic
from chia.events.durability import FsyncMode
from chia.exchange.settings import ExchangeSettings
from chia.llm.prices import PriceMap
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
    agents: list[str] = Field(min_length=1, description="The slice, in campaign order.")
    agents_per_process: int = Field(
        1, ge=1, description="Agents per host process: process p hosts agents[p*k:(p+1)*k]."
    )
    exchange: ExchangeSettings
    launcher: LauncherKind
    site_dir: Path
    startup_timeout_s: float = Field(gt=0)
    bootstrap: bool = Field(description="Send the kickoff if this site hosts initial_agent.")
    ray_address: str | None = Field(None, description="Ray cluster of the ray launcher.")
    ray_resources: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Ray resources per agent ('*': every agent)."
    )
    lm: LMSettings | None = Field(
        None, description="Model settings overriding the campaign's (spawn-site --model)."
    )
    prices: PriceMap = Field(
        default_factory=dict,
        description="The user's model prices ($CHIA_PRICES, spawn-site --prices), read at launch.",
    )
    max_restarts: int = Field(
        3, ge=0, description="Restarts of a dead agent process before the site gives up."
    )
    fsync: FsyncMode = Field("batch", description="Durability of receive events (see FsyncMode).")
    resume: bool = Field(False, description="spawn-site --resume: rejoin from the run dir.")
    replay: Path | None = Field(
        None, description="Run dir whose recorded model calls answer this run's (--replay)."
    )
    relay_host_file: str | None = Field(
        None, description="The profile's relay host file (for a model on the 'relay' URL)."
    )
    created: AwareDatetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def path(self) -> Path:
        """Where this launch is written."""
        return self.site_dir / LAUNCH_FILE

    @property
    def process_count(self) -> int:
        """How many host processes (ranks) the slice needs."""
        return -(-len(self.agents) // self.agents_per_process)

    def agents_for_rank(self, rank: int) -> list[int]:
        """Return the slice indices of the agents process ``rank`` hosts.

        Raises:
            IndexError: If the rank is outside ``range(process_count)``.
        """
        if not 0 <= rank < self.process_count:
            raise IndexError(f"rank {rank} is outside the {self.process_count} host processes")
        start = rank * self.agents_per_process
        return list(range(start, min(start + self.agents_per_process, len(self.agents))))

    def write(self) -> Path:
        """Write ``launch.json`` atomically and return its path."""
        write_json_atomic(self.path, self.model_dump(mode="json"))
        return self.path

    @classmethod
    def read(cls, path: Path) -> SiteLaunch:
        """Read a ``launch.json``."""
        return cls.model_validate_json(path.read_bytes())
