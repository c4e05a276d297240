"""``chia campaign``: list, show, validate and plan campaigns, and export their schema."""

from __future__ import annotations

from enum import Enum

import typer
from rich.table import Table

from chia.campaign import (
    build_plan,
    campaign_schema,
    load_campaign,
    packaged_campaigns,
    prompt_profile_schema,
    select_agents,
    validate_campaign,
)
from chia.campaign.loading import LoadedCampaign
from chia.cli._options import EXCHANGE_HELP, URL_HELP, ExchangeChoice
from chia.cli._output import console, print_json
from chia.names import check_name

app = typer.Typer(help="Inspect, validate and plan campaign files.", no_args_is_help=True)

CAMPAIGN_ARG = typer.Argument(..., help="A campaign file, its directory, or a packaged name.")


class SchemaKind(str, Enum):
    """Which file format to export a JSON Schema for."""

    campaign = "campaign"
    prompt_profile = "prompt-profile"


@app.command("list")
def list_campaigns() -> None:
    """List the campaigns packaged with chia."""
    table = Table("name", "agents", "description", box=None)
    for name, path in packaged_campaigns().items():
        spec = load_campaign(path).spec
        table.add_row(name, ", ".join(spec.agent_names), spec.description)
    console.print(table)


@app.command()
def show(
    campaign: str = CAMPAIGN_ARG,
    as_json: bool = typer.Option(False, "--json", help="Print the parsed campaign as JSON."),
) -> None:
    """Show a campaign's task, agents, peers and model settings."""
    loaded = load_campaign(campaign)
    spec = loaded.spec
    if as_json:
        print_json(spec.model_dump(mode="json", by_alias=True, exclude_none=True))
        return
    console.print(f"[bold]{spec.name}[/]  ({loaded.path})")
    if spec.description:
        console.print(spec.description)
    console.print(f"task: {spec.user_task}")
    console.print(f"initial agent: {spec.initial_agent}   default run id: {spec.run_id or '-'}")
    console.print(f"model: {spec.lm.provider}/{spec.lm.model}   prompts: {spec.prompt_profile}")
    if spec.policy is not None:
        console.print(f"offline policy: {spec.policy.kind}")
    table = Table("agent", "role", "site", "peers", "mcp servers", box=None)
    for agent in spec.agents:
        table.add_row(
            agent.name,
            agent.role,
            agent.site or "-",
            ", ".join(agent.allowed_peers) or "-",
            ", ".join(agent.mcp_servers) or "-",
        )
    console.print(table)


@app.command()
def validate(
    campaign: str = CAMPAIGN_ARG,
    agents: str | None = typer.Option(
        None, "--agents", help="Validate only this site's slice (comma list), federated mode."
    ),
) -> None:
    """Check a campaign file; exit 2 with one line per problem if it cannot run."""
    loaded: LoadedCampaign = load_campaign(campaign)
    if agents is not None:
        sliced = select_agents(loaded.spec, agents)
        validate_campaign(sliced, federated=True, source=str(loaded.path))
        console.print(f"ok: {loaded.path} (slice {', '.join(sliced.agent_names)})")
        return
    console.print(f"ok: {loaded.path} ({len(loaded.spec.agents)} agents)")


@app.command()
def plan(
    campaign: str = CAMPAIGN_ARG,
    run_id: str | None = typer.Option(None, "--run-id", help="Run id (default: the campaign's)."),
    exchange: ExchangeChoice = typer.Option(ExchangeChoice.http, "--exchange", help=EXCHANGE_HELP),
    exchange_url: str | None = typer.Option(None, "--exchange-url", help=URL_HELP),
) -> None:
    """Print which site runs which agent, the message routes, and the launch commands."""
    if run_id is not None:
        check_name(run_id, "run id")
    loaded = load_campaign(campaign)
    result = build_plan(
        loaded.spec,
        campaign_ref=campaign,
        run_id=run_id,
        exchange=exchange.value,
        exchange_url=exchange_url,
    )
    console.print(f"[bold]campaign[/] {result.campaign}   [bold]run id[/] {result.run_id}")
    console.print(f"initial agent: {result.initial_agent}")
    sites = Table("site", "agents", "kickoff", box=None)
    for site in result.sites:
        sites.add_row(site.site, ", ".join(site.agents), "yes" if site.hosts_initial_agent else "")
    console.print(sites)
    console.print("[bold]message routes[/]")
    for route in result.routes:
        where = "cross-site" if route.cross_site else "same-site"
        console.print(f"  {route.sender} -> {route.recipient}  ({where})")
    console.print("[bold]launch[/] (one command per site, then the kickoff):")
    for site in result.sites:
        console.print(f"  # {site.site}\n  {site.command}")
    if result.federated:
        console.print(f"  # once every site is up\n  {result.bootstrap_command}")


@app.command()
def schema(
    kind: SchemaKind = typer.Option(SchemaKind.campaign, "--kind", help="Which file format."),
) -> None:
    """Print the JSON Schema of campaign (or prompt-profile) files, for editors."""
    print_json(campaign_schema() if kind is SchemaKind.campaign else prompt_profile_schema())
