"""Find and load campaign files by path or by packaged name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chia import assets
from chia.campaign.model import CampaignSpec, PromptProfile
from chia.campaign.validation import validate_campaign
from chia.config_files import load_jsonc, parse_model, resolve_config
from chia.errors import ChiaUsageError, ConfigFileError

__all__ = ["CAMPAIGN_FILE", "LoadedCampaign", "load_campaign", "packaged_campaigns"]

#: The file name of a campaign inside its directory.
CAMPAIGN_FILE = "campaign.jsonc"


@dataclass(frozen=True)
class LoadedCampaign:
    """A validated campaign with where it came from and its prompt profile."""

    spec: CampaignSpec
    path: Path
    prompts: PromptProfile

    @property
    def directory(self) -> Path:
        """The campaign's directory (resources with scope ``campaign_file`` are under it)."""
        return self.path.parent


def packaged_campaigns() -> dict[str, Path]:
    """Map each packaged campaign name to its campaign file."""
    root = assets.path("campaigns")
    return {
        entry.name: entry / CAMPAIGN_FILE
        for entry in sorted(root.iterdir())
        if (entry / CAMPAIGN_FILE).is_file()
    }


def _resolve(ref: str | Path) -> Path:
    candidate = Path(ref).expanduser()
    if candidate.is_dir():
        candidate = candidate / CAMPAIGN_FILE
        if not candidate.is_file():
            raise ChiaUsageError(f"{candidate.parent}: directory has no {CAMPAIGN_FILE}")
        return candidate
    return resolve_config(ref, packaged_campaigns(), "campaign")


def _load_prompts(spec: CampaignSpec, campaign_path: Path) -> PromptProfile:
    path = campaign_path.parent / "prompt_profiles" / f"{spec.prompt_profile}.json"
    if not path.is_file():
        raise ChiaUsageError(
            f"{campaign_path}: prompt_profile {spec.prompt_profile!r} not found (expected {path})"
        )
    return parse_model(PromptProfile, load_jsonc(path), str(path))


def load_campaign(ref: str | Path, *, federated: bool = False) -> LoadedCampaign:
    """Load and validate a campaign.

    Args:
        ref: A campaign file, a directory holding ``campaign.jsonc``, or a packaged name.
        federated: Validate as one site's slice (see ``validate_campaign``).

    Raises:
        ChiaUsageError: For a missing file, a syntax error (with line and column), an
            unknown key (named with its file), or a failed cross-reference check.
    """
    path = _resolve(ref)
    data = load_jsonc(path)
    if not isinstance(data, dict):
        raise ConfigFileError(path, "a campaign file must hold a JSON object")
    spec = parse_model(CampaignSpec, data, str(path))
    validate_campaign(spec, federated=federated, source=str(path))
    return LoadedCampaign(spec=spec, path=path.resolve(), prompts=_load_prompts(spec, path))
