"""Cross-reference checks on a campaign, strict or federated.

Strict mode (the default) checks a whole campaign. Federated mode checks one site's slice:
peers and the initial agent may live on another site, but self-peering, duplicates and
references to undeclared MCP servers, tools and resources are still errors.
"""

from __future__ import annotations

from collections import Counter

from chia.campaign.model import BUILTIN_TOOLS, AgentSpec, CampaignSpec, LMSettings
from chia.errors import ChiaUsageError

__all__ = ["CampaignError", "campaign_problems", "lm_problems", "validate_campaign"]


class CampaignError(ChiaUsageError):
    """A campaign that cannot run; the message lists every problem found."""

    def __init__(self, problems: list[str], source: str = "campaign") -> None:
        self.problems = problems
        super().__init__("\n".join(f"{source}: {problem}" for problem in problems))


def _duplicates(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def _tool_problems(agent: AgentSpec) -> list[str]:
    problems = []
    for tool in agent.allowed_tools:
        if tool in BUILTIN_TOOLS:
            continue
        server, dot, tool_name = tool.partition(".")
        if not dot or not tool_name:
            problems.append(
                f"agent {agent.name!r}: unknown tool {tool!r} (use a built-in "
                f"{', '.join(BUILTIN_TOOLS)} or 'server.tool')"
            )
        elif server not in agent.mcp_servers:
            problems.append(
                f"agent {agent.name!r}: tool {tool!r} names MCP server {server!r}, "
                "which is not in its mcp_servers"
            )
    return problems


#: LMSettings fields only some providers read, and which.
_PROVIDER_ONLY = {
    "region": ("bedrock",),
    "aws_profile": ("bedrock",),
    "base_model": ("bedrock",),
    "project": ("vertex",),
    "location": ("vertex",),
    "thinking_budget": ("anthropic", "bedrock", "vertex"),
}


#: LMSettings fields an agent CLI has no use for: it has its own settings and credentials.
#: (``max_retries`` and ``retry_backoff_s`` have defaults, so they are ignored instead.)
_NOT_FOR_AGENT_CLIS = (
    "base_url",
    "api_key_env",
    "temperature",
    "max_tokens",
    "user",
    *_PROVIDER_ONLY,
)


def lm_problems(lm: LMSettings) -> list[str]:
    """Problems of the ``lm`` section that need no key or network.

    An unknown provider (the known ones listed), a model name the provider does not serve,
    and fields set for a provider that does not read them (``region`` on ``vertex``,
    ``temperature`` on an agent CLI...).
    """
    from chia.llm.settings import AGENT_CLI_PROVIDERS, known_providers, model_problem

    known = known_providers()
    if lm.provider not in known:
        return [f"lm.provider {lm.provider!r} is unknown; known: {', '.join(known)}"]
    if lm.provider == "scripted":
        return []
    if lm.provider in AGENT_CLI_PROVIDERS:
        return [
            f"lm.{name} does not apply to lm.provider {lm.provider!r}: an agent CLI uses its "
            "own settings and credentials; remove it"
            for name in _NOT_FOR_AGENT_CLIS
            if getattr(lm, name) is not None
        ]
    problem = model_problem(lm.provider, lm.model)
    return ([problem] if problem else []) + [
        f"lm.{name} applies to lm.provider {' or '.join(providers)}, not {lm.provider!r}"
        for name, providers in _PROVIDER_ONLY.items()
        if getattr(lm, name) is not None and lm.provider not in providers
    ]


def campaign_problems(campaign: CampaignSpec, *, federated: bool = False) -> list[str]:
    """Return every cross-reference problem in ``campaign`` (empty when it is valid).

    Args:
        campaign: The campaign, whole or a slice of it.
        federated: Allow peers and the initial agent to be absent (on another site).
    """
    problems = lm_problems(campaign.lm)
    for agent in campaign.agents:
        if agent.lm is not None:
            problems += [f"agent {agent.name!r}: {p}" for p in lm_problems(agent.lm)]
    problems += [f"duplicate agent name {n!r}" for n in _duplicates(campaign.agent_names)]
    servers = [server.name for server in campaign.mcp_servers]
    resources = [resource.name for resource in campaign.resources]
    problems += [f"duplicate MCP server name {n!r}" for n in _duplicates(servers)]
    problems += [f"duplicate resource name {n!r}" for n in _duplicates(resources)]
    declared = set(campaign.agent_names)
    if not federated and campaign.initial_agent not in declared:
        problems.append(f"initial_agent {campaign.initial_agent!r} is not a declared agent")
    for agent in campaign.agents:
        if agent.name in agent.allowed_peers:
            problems.append(f"agent {agent.name!r} lists itself in allowed_peers")
        problems += [
            f"agent {agent.name!r}: duplicate peer {p!r}" for p in _duplicates(agent.allowed_peers)
        ]
        if not federated:
            problems += [
                f"agent {agent.name!r}: unknown peer {peer!r}"
                for peer in agent.allowed_peers
                if peer not in declared and peer != agent.name
            ]
        problems += [
            f"agent {agent.name!r}: unknown MCP server {server!r}"
            for server in agent.mcp_servers
            if server not in servers
        ]
        problems += [
            f"agent {agent.name!r}: unknown resource {resource!r}"
            for resource in agent.resources
            if resource not in resources
        ]
        problems += _tool_problems(agent)
    return problems


def validate_campaign(
    campaign: CampaignSpec, *, federated: bool = False, source: str = "campaign"
) -> CampaignSpec:
    """Return ``campaign`` if it is valid.

    Raises:
        CampaignError: Listing every problem, each prefixed with ``source``.
    """
    problems = campaign_problems(campaign, federated=federated)
    if problems:
        raise CampaignError(problems, source)
    return campaign
