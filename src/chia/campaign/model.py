"""The campaign file, as pydantic models.

A campaign names a task, the agents that work on it, who may talk to whom, the model
settings, and (for offline runs) the scripted policy that stands in for a model. Files are
JSONC; unknown keys are errors. Cross-references are checked by
:func:`chia.campaign.validation.validate_campaign`, not here, because one site may hold only
a slice of the agents.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chia.finish import FinalReason
from chia.llm.prices import PriceMap
from chia.llm.settings import AGENT_CLI_PROVIDERS
from chia.names import NAME_PATTERN
from chia.timeouts import DELIVERY_DEADLINE_S

__all__ = [
    "BUILTIN_TOOLS",
    "AgentSpec",
    "BallsPolicy",
    "CampaignSpec",
    "CounterPolicy",
    "LMSettings",
    "Limits",
    "McpServerSpec",
    "Name",
    "PolicySpec",
    "PromptProfile",
    "ResourceSpec",
]

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
EnvVarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]

#: Tools every campaign agent has, whatever its MCP servers.
BUILTIN_TOOLS = ("send_message", "finish_turn", "submit_result")

#: An agent CLI's run limit when ``lm.timeout_s`` is not given: a whole turn, not one call.
AGENT_CLI_TIMEOUT_S = 900.0


class StrictModel(BaseModel):
    """A frozen model that rejects unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LMSettings(StrictModel):
    """How agents reach a language model. Keys are never stored here, only a variable name.

    For an agent CLI (``claude-code``, ``codex``, ``opencode``) ``model`` may be left out
    (``default``: the CLI's own choice) and ``timeout_s`` bounds a whole CLI run
    (default 900 s).
    """

    provider: str = "scripted"
    model: str = "scripted"
    base_url: str | None = None
    api_key_env: EnvVarName | None = Field(
        None, description="NAME of the environment variable that holds the API key."
    )
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, gt=0)
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(2, ge=0)
    user: str | None = Field(None, description="Gateway user field (e.g. Argo), if any.")
    retry_backoff_s: float = Field(
        1.0, gt=0, description="First backoff after a 5xx or timeout; doubles each retry."
    )
    thinking_budget: int | None = Field(
        None, ge=0, description="Reasoning tokens (anthropic, bedrock's Claude, vertex)."
    )
    region: str | None = Field(None, description="bedrock: the AWS region (or AWS_REGION).")
    aws_profile: str | None = Field(None, description="bedrock: the AWS profile, if any.")
    base_model: str | None = Field(
        None, description="bedrock: the model an application inference profile routes to."
    )
    project: str | None = Field(
        None, description="vertex: the Google Cloud project (or GOOGLE_CLOUD_PROJECT)."
    )
    location: str | None = Field(
        None, description="vertex: the region (or GOOGLE_CLOUD_LOCATION; us-central1)."
    )

    @model_validator(mode="before")
    @classmethod
    def _agent_cli_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("provider") in AGENT_CLI_PROVIDERS:
            return {"model": "default", "timeout_s": AGENT_CLI_TIMEOUT_S, **data}
        return data

    @model_validator(mode="before")
    @classmethod
    def _no_inline_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and "api_key" in data:
            raise ValueError(
                "API keys are never stored in campaign files: set 'api_key_env' to the NAME "
                "of the environment variable that holds the key"
            )
        return data


class ResourceSpec(StrictModel):
    """A file, directory or inline JSON value that agents may be given."""

    name: Name
    kind: Literal["json", "file", "directory"]
    scope: Literal["campaign_file", "shared_run", "absolute", "external"] = "campaign_file"
    path: str | None = None
    value: Any = None
    description: str = ""

    @model_validator(mode="after")
    def _has_content(self) -> ResourceSpec:
        if self.kind == "json" and self.value is None and self.path is None:
            raise ValueError(f"json resource {self.name!r} needs 'value' or 'path'")
        if self.kind != "json" and self.path is None:
            raise ValueError(f"{self.kind} resource {self.name!r} needs 'path'")
        return self


class McpServerSpec(StrictModel):
    """An MCP tool server: a command chia starts, or a URL it connects to."""

    name: Name
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None

    @model_validator(mode="after")
    def _command_or_url(self) -> McpServerSpec:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r} needs exactly one of 'command' or 'url'")
        if self.url is not None and (self.args or self.env):
            raise ValueError(f"MCP server {self.name!r}: 'args' and 'env' apply to 'command' only")
        return self


class AgentSpec(StrictModel):
    """One campaign agent: its role, mission, and who and what it may use."""

    name: Name
    role: str
    mission: str
    allowed_peers: list[Name] = Field(default_factory=list)
    mcp_servers: list[Name] = Field(default_factory=list)
    allowed_tools: list[str] = Field(
        default_factory=list,
        description="Extra tools, as 'server.tool' or 'server.*'; built-ins are always allowed.",
    )
    resources: list[Name] = Field(default_factory=list)
    site: Name | None = Field(None, description="Default placement (site name).")
    lm: LMSettings | None = Field(
        None,
        description="This agent's model, over the campaign's 'lm' (e.g. one agent on an "
        "agent CLI, the others on an API model).",
    )


class CounterPolicy(StrictModel):
    """Offline script: agents pass a counter back and forth, each adding one, to a target."""

    kind: Literal["counter"]
    start: int = 1
    target: int = 10
    message: str = Field("counter = {counter}", description="Message text; {counter} is replaced.")

    @model_validator(mode="after")
    def _reachable(self) -> CounterPolicy:
        if self.target < self.start:
            raise ValueError("counter policy: 'target' must be >= 'start'")
        return self


class BallsPolicy(StrictModel):
    """Offline script that keeps many messages in flight (the fault suite's workload).

    On the kickoff the initial agent sends ``balls`` messages ``ball <i> = 0`` to its
    first peer; whoever receives ``ball <i> = <v>`` sends ``ball <i> = <v+1>`` back, until
    ``v+1`` reaches ``target`` and the ball retires. The agent retiring the last ball
    submits ``balls=<n> hops=<sum> checksum=<sum>``, exact only if no message was lost or
    decided twice. About ``balls * target`` messages in all.
    """

    kind: Literal["balls"]
    balls: int = Field(20, gt=0, description="Messages in flight at once.")
    target: int = Field(50, gt=0, description="Hops each ball makes before it retires.")


#: Every scripted policy kind, discriminated by ``kind``.
PolicySpec = Annotated[CounterPolicy | BallsPolicy, Field(discriminator="kind")]


class Limits(StrictModel):
    """Stopping rules for each agent."""

    max_decisions: int = Field(20, gt=0)
    idle_timeout_s: float = Field(300.0, gt=0)
    delivery_deadline_s: float = Field(
        DELIVERY_DEADLINE_S,
        gt=0,
        description="How long a send is retried (same message id) before it is reported "
        "undelivered; batch queues are slow.",
    )
    success: list[FinalReason] = Field(
        ["completed"],
        min_length=1,
        description="Finish reasons that count as success for spawn-site's exit code: "
        "'completed' (the campaign's result was submitted) by default; add "
        "'max_decisions' or 'idle_timeout' for campaigns that end by those rules.",
    )


class PromptProfile(StrictModel):
    """System and protocol prompts for LLM-driven agents, one file per profile."""

    system_prompt: str
    protocol_prompt: str
    recursion_limit: int = Field(16, gt=0)


class CampaignSpec(StrictModel):
    """A whole campaign, as written in its JSONC file."""

    schema_ref: str | None = Field(None, alias="$schema", description="Editor schema hint.")
    name: Name
    description: str = ""
    run_id: Name | None = Field(None, description="Default run id; --run-id overrides it.")
    user_task: str
    initial_agent: Name
    prompt_profile: Name = "default"
    lm: LMSettings = Field(default_factory=LMSettings)
    prices: PriceMap = Field(
        default_factory=dict,
        description="USD per million tokens by provider, then model: {input, output, "
        "cached_input}; over the package's table (see chia.llm.prices).",
    )
    policy: PolicySpec | None = None
    limits: Limits = Field(default_factory=Limits)
    resources: list[ResourceSpec] = Field(default_factory=list)
    mcp_servers: list[McpServerSpec] = Field(default_factory=list)
    agents: list[AgentSpec] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def agent_names(self) -> list[str]:
        """Agent names in campaign order."""
        return [agent.name for agent in self.agents]

    def agent(self, name: str) -> AgentSpec:
        """Return the agent called ``name``.

        Raises:
            KeyError: If the campaign has no such agent.
        """
        for agent in self.agents:
            if agent.name == name:
                return agent
        raise KeyError(name)
