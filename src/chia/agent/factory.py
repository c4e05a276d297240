"""Choose the policy a campaign's agents decide with, and check model settings at launch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from chia.agent.policy import Policy
from chia.agent.scripted import scripted_policy
from chia.campaign.model import (
    AGENT_CLI_TIMEOUT_S,
    AgentSpec,
    CampaignSpec,
    LMSettings,
    PromptProfile,
)
from chia.errors import ChiaUsageError
from chia.llm.errors import MissingAPIKeyError
from chia.llm.prices import PriceMap, PriceTable
from chia.llm.recording import (
    CallLog,
    ModelIdentity,
    RecordingModel,
    find_records,
    read_records,
    records_path,
)
from chia.llm.settings import AGENT_CLI_PROVIDERS

__all__ = [
    "agent_lm",
    "check_lm",
    "lm_override",
    "make_model",
    "make_policy",
    "model_readiness",
]

#: LMSettings fields that only one provider reads.
_PROVIDER_FIELDS = ("thinking_budget", "region", "aws_profile", "base_model", "project", "location")


def lm_override(
    base: LMSettings,
    model_ref: str,
    *,
    base_url: str | None = None,
    api_key_env: str | None = None,
) -> LMSettings:
    """Return ``base`` with provider and model taken from ``provider:model``.

    Endpoint, key variable and gateway user belong to a provider, so they are not kept
    from ``base``: they come from ``base_url``/``api_key_env`` or the provider's preset.
    Limits (timeout, retries, max tokens, temperature) are kept; the provider's own
    fields (region, profile, project, location, base model, thinking budget) are kept
    only when the provider stays the same (else its environment variables apply).

    Raises:
        LLMConfigError: For a malformed reference or an unknown provider.
        pydantic.ValidationError: For a malformed variable name or URL.
    """
    from chia.llm.factory import parse_model_ref

    provider, model = parse_model_ref(model_ref)
    fields = base.model_dump()
    fields.update(
        provider=provider, model=model, base_url=base_url, api_key_env=api_key_env, user=None
    )
    if provider != base.provider:  # region, project... belong to the campaign's provider
        fields.update({name: None for name in _PROVIDER_FIELDS})
    if provider in AGENT_CLI_PROVIDERS and provider != base.provider:
        # sampling limits mean nothing to a CLI, and its timeout bounds a whole run
        fields.update(temperature=None, max_tokens=None)
        if "timeout_s" not in base.model_fields_set:
            fields["timeout_s"] = AGENT_CLI_TIMEOUT_S
    return LMSettings.model_validate(fields)


def agent_lm(
    campaign: CampaignSpec, agent: AgentSpec | None, override: LMSettings | None
) -> LMSettings:
    """The model settings ``agent`` decides with.

    The agent's own ``lm`` wins (a campaign pins it, e.g. to an agent CLI); else the
    override (``spawn-site --model``), else the campaign's ``lm``.
    """
    if agent is not None and agent.lm is not None:
        return agent.lm
    return override or campaign.lm


def make_model(lm: LMSettings, system_message: str = "") -> Any:
    """Build the campaign's model (an ``LLMCallBase`` that is also a ``ChatModel``).

    Raises:
        LLMConfigError: For an unknown provider, a missing key, or a placeholder.
    """
    from chia.llm import make_llm

    return make_llm(
        lm.provider,
        lm.model,
        base_url=lm.base_url,
        api_key_env=lm.api_key_env,
        system_message=system_message,
        temperature=lm.temperature,
        max_tokens=lm.max_tokens,
        timeout_s=lm.timeout_s,
        max_retries=lm.max_retries,
        retry_backoff_s=lm.retry_backoff_s,
        user=lm.user,
        **{name: getattr(lm, name) for name in _PROVIDER_FIELDS},
    )


def check_lm(lm: LMSettings) -> None:
    """Fail now, not at the first call, if ``lm`` cannot work (no call is made).

    Raises:
        LLMConfigError: Unknown provider (known ones listed), a missing API key variable,
            a missing base URL or gateway user, or a template placeholder in a value.
    """
    if lm.provider != "scripted":
        make_model(lm)


def model_readiness(
    model_ref: str, *, base_url: str | None = None, api_key_env: str | None = None
) -> str | None:
    """Say whether ``provider:model`` can run here: None if so, else why not (no key).

    For ``chia demo --model``: a missing key means "stay offline and say so"; anything
    else wrong with the reference is a usage error.

    Raises:
        LLMConfigError: For a malformed reference, unknown provider or placeholder.
    """
    lm = lm_override(LMSettings(), model_ref, base_url=base_url, api_key_env=api_key_env)
    try:
        check_lm(lm)
    except MissingAPIKeyError as exc:
        return str(exc)
    return None


def make_policy(
    campaign: CampaignSpec,
    *,
    prompts: PromptProfile | None = None,
    agent: AgentSpec | None = None,
    lm: LMSettings | None = None,
    workdir: Path | None = None,
    run_dir: Path | None = None,
    replay: Path | None = None,
    landmark: Callable[[str], None] | None = None,
    prices: PriceMap | None = None,
) -> Policy:
    """Return the policy for ``campaign``'s ``lm`` settings (or ``lm``, an override).

    ``scripted`` plays the campaign's ``policy`` section offline; an agent CLI
    (``claude-code``, ``codex``, ``opencode``) gets an
    :class:`~chia.agent.cli_policy.AgentCLIPolicy` (its session kept in
    ``<run_dir>/agent_cli/``); any other provider gets an
    :class:`~chia.agent.llm_policy.LLMPolicy` with the agent's MCP tools. The agent's own
    ``lm`` wins over ``lm`` and the campaign's (:func:`agent_lm`). With
    ``run_dir``, every model call is recorded in ``<run_dir>/llm/<agent>.jsonl``
    (:mod:`chia.llm.recording`). With ``replay``, the model is the recorded run's
    answers for this agent (:mod:`chia.llm.replay`), and ``lm``, if given, names the model
    that takes over from the first divergence (``--continue-live``); without ``lm`` the
    agent stops there. An agent with no recorded call in a campaign on the scripted
    model replays on the offline policy, which is deterministic.

    Args:
        campaign: The campaign.
        prompts: Its prompt profile (required for LLM providers).
        agent: The agent the policy decides for (its MCP servers and allowed tools).
        lm: Model settings overriding the campaign's (``spawn-site --model``); with
            ``replay``, the live model after a divergence.
        workdir: Where stdio MCP servers run (the campaign's directory).
        run_dir: The agent's site directory, where its model calls are recorded.
        replay: A recorded run (or site) directory whose model calls answer this one's;
            needs ``agent`` and ``run_dir``.
        landmark: Prints one operator line (a divergence), if given.
        prices: The user's prices (``--prices``, ``$CHIA_PRICES``), over the campaign's.

    Raises:
        ChiaUsageError: If the scripted provider is chosen but the campaign has no
            ``policy`` section, prompts are missing, or the model settings cannot work;
            a record file is corrupt (file and line named).
    """
    chosen = agent_lm(campaign, agent, lm)
    if chosen.provider in AGENT_CLI_PROVIDERS:
        if replay is not None:
            raise ChiaUsageError(
                f"agent {agent.name if agent else '?'!r} runs the agent CLI {chosen.provider!r}: "
                "a recorded run cannot replay it"
            )
        return _cli_policy(campaign, prompts, agent, chosen, workdir, run_dir)
    if replay is not None:
        return _replay_policy(
            campaign, prompts, agent, lm, workdir, run_dir, replay, landmark, prices
        )
    lm = chosen
    if lm.provider == "scripted":
        return _scripted(campaign)
    model = make_model(lm)
    if run_dir is not None and agent is not None:
        model = RecordingModel(model, _identity(lm), _call_log(run_dir, campaign, agent))
    return _llm_policy(campaign, prompts, agent, model, workdir, lm.timeout_s, prices)


def _cli_policy(
    campaign: CampaignSpec,
    prompts: PromptProfile | None,
    agent: AgentSpec | None,
    lm: LMSettings,
    workdir: Path | None,
    run_dir: Path | None,
) -> Policy:
    from chia.agent.cli_policy import AgentCLIPolicy
    from chia.agent.mcp_tools import McpToolbox

    if prompts is None:
        raise ChiaUsageError(f"campaign {campaign.name!r}: an agent CLI needs a prompt profile")
    toolbox = None
    if agent is not None and agent.mcp_servers:
        toolbox = McpToolbox(campaign.mcp_servers, agent, workdir=workdir, timeout_s=lm.timeout_s)
    return AgentCLIPolicy(
        make_model(lm),
        lm.provider,
        prompts,
        toolbox,
        state_dir=run_dir / "agent_cli" if run_dir is not None else None,
        agent=agent.name if agent is not None else "agent",
    )


def _scripted(campaign: CampaignSpec) -> Policy:
    if campaign.policy is None:
        raise ChiaUsageError(
            f"campaign {campaign.name!r} uses the scripted model but has no 'policy' section"
        )
    return scripted_policy(campaign.policy)


def _identity(lm: LMSettings) -> ModelIdentity:
    return ModelIdentity(
        provider=lm.provider, model=lm.model, temperature=lm.temperature, max_tokens=lm.max_tokens
    )


def _call_log(run_dir: Path, campaign: CampaignSpec, agent: AgentSpec) -> CallLog:
    return CallLog(records_path(run_dir, agent.name), campaign=campaign.name)


def _replay_policy(
    campaign: CampaignSpec,
    prompts: PromptProfile | None,
    agent: AgentSpec | None,
    live_lm: LMSettings | None,
    workdir: Path | None,
    run_dir: Path | None,
    replay: Path,
    landmark: Callable[[str], None] | None,
    prices: PriceMap | None = None,
) -> Policy:
    from chia.llm.replay import ReplayModel

    if agent is None or run_dir is None:
        raise ChiaUsageError("a replay needs the agent and its run directory")
    source = find_records(replay, agent.name)
    if source is None and campaign.lm.provider == "scripted":
        return _scripted(campaign)
    log = _call_log(run_dir, campaign, agent)
    live = None
    if live_lm is not None:
        live = RecordingModel(make_model(live_lm), _identity(live_lm), log)
    recorded = read_records(source) if source is not None else []
    model = ReplayModel(agent.name, recorded, log, live=live, landmark=landmark)
    timeout_s = (live_lm or campaign.lm).timeout_s
    return _llm_policy(campaign, prompts, agent, model, workdir, timeout_s, prices)


def _llm_policy(
    campaign: CampaignSpec,
    prompts: PromptProfile | None,
    agent: AgentSpec | None,
    model: Any,
    workdir: Path | None,
    timeout_s: float,
    prices: PriceMap | None = None,
) -> Policy:
    if prompts is None:
        raise ChiaUsageError(f"campaign {campaign.name!r}: an LLM policy needs a prompt profile")
    from chia.agent.llm_policy import LLMPolicy
    from chia.agent.mcp_tools import McpToolbox

    toolbox = None
    if agent is not None and agent.mcp_servers:
        toolbox = McpToolbox(campaign.mcp_servers, agent, workdir=workdir, timeout_s=timeout_s)
    return LLMPolicy(model, prompts, toolbox, PriceTable.build(campaign.prices, prices))
