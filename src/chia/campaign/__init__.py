"""Campaign files: the model, loading from JSONC, validation, slicing and the launch plan."""

from chia.campaign.loading import CAMPAIGN_FILE, LoadedCampaign, load_campaign, packaged_campaigns
from chia.campaign.model import (
    BUILTIN_TOOLS,
    AgentSpec,
    BallsPolicy,
    CampaignSpec,
    CounterPolicy,
    Limits,
    LMSettings,
    McpServerSpec,
    PolicySpec,
    PromptProfile,
    ResourceSpec,
)
from chia.campaign.plan import CampaignPlan, SitePlan, build_plan
from chia.campaign.schema import campaign_schema, prompt_profile_schema
from chia.campaign.selection import parse_agent_list, select_agents
from chia.campaign.validation import CampaignError, campaign_problems, validate_campaign

__all__ = [
    "BUILTIN_TOOLS",
    "CAMPAIGN_FILE",
    "AgentSpec",
    "BallsPolicy",
    "CampaignError",
    "CampaignPlan",
    "CampaignSpec",
    "CounterPolicy",
    "LMSettings",
    "Limits",
    "LoadedCampaign",
    "McpServerSpec",
    "PolicySpec",
    "PromptProfile",
    "ResourceSpec",
    "SitePlan",
    "build_plan",
    "campaign_problems",
    "campaign_schema",
    "load_campaign",
    "packaged_campaigns",
    "parse_agent_list",
    "prompt_profile_schema",
    "select_agents",
    "validate_campaign",
]
