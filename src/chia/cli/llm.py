"""``chia llm``: model tools. ``chia llm fake-server`` serves a reply script for dry runs."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import typer

from chia.cli._output import console

app = typer.Typer(help="Language-model tools (scripted fake model servers).")


def fake_server(
    script: Path = typer.Option(..., "--script", help="Reply script (JSON) to replay."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback default)."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port (0: a free one)."),
    record: Path | None = typer.Option(
        None, "--record", help="Append every request to this file as JSON lines."
    ),
    url_file: Path | None = typer.Option(
        None, "--url-file", help="Write the base URL here once serving."
    ),
    api_key_env: str | None = typer.Option(
        None, "--api-key-env", help="Require the key held by this variable (else HTTP 401)."
    ),
    wire: str = typer.Option(
        "openai", "--format", help="Wire format: openai, anthropic, bedrock or vertex."
    ),
    region: str = typer.Option(
        "us-east-1", "--region", help="bedrock: the region SigV4 scopes must name."
    ),
    project: str = typer.Option("fake-project", "--project", help="vertex: the project."),
    location: str = typer.Option("us-central1", "--location", help="vertex: the location."),
    adc_file: Path | None = typer.Option(
        None, "--adc-file", help="vertex: write credentials for this server here."
    ),
) -> None:
    """Serve a model API that replays SCRIPT (OpenAI-compatible unless --format says).

    Point a campaign at it with `chia spawn-site --model openai_compatible:<model>
    --llm-base-url <printed URL>` (or anthropic:, bedrock:, vertex:). bedrock checks SigV4
    against AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; vertex issues tokens to the service
    account it writes to --adc-file (set GOOGLE_APPLICATION_CREDENTIALS to it). Stops on
    Ctrl-C or SIGTERM.
    """
    from chia.errors import ChiaUsageError
    from chia.llm import Script, read_api_key

    parsed = Script.load(script)
    key = read_api_key(api_key_env) if api_key_env else None
    if wire not in ("openai", "anthropic", "bedrock", "vertex"):
        raise ChiaUsageError(f"--format {wire!r}: expected openai, anthropic, bedrock or vertex")
    if wire == "vertex" and adc_file is None:
        raise ChiaUsageError("--format vertex needs --adc-file (where to write its credentials)")
    server = _server(wire, parsed, key, record, region, project, location)

    account = getattr(server, "account", None)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        url = await server.start_async(host, port)
        if adc_file is not None and account is not None:
            from chia.testing.vertex_server import write_adc_file

            write_adc_file(adc_file, account, f"{url}/token", project)
        if url_file is not None:
            url_file.write_text(url + "\n")
        console.print(
            f"fake {wire} server on {url} ({len(parsed.responses)} scripted replies"
            f"{', then the default' if parsed.default else ''})",
            markup=False,
        )
        try:
            await stop.wait()
        finally:
            await server.stop_async()
        console.print(f"served {len(server.requests)} request(s); stopped", markup=False)

    asyncio.run(serve())


def _server(
    wire: str,
    script: Any,
    key: str | None,
    record: Path | None,
    region: str,
    project: str,
    location: str,
) -> Any:
    if wire == "anthropic":
        from chia.testing.anthropic_server import AnthropicServer

        return AnthropicServer(script, api_key=key, record_path=record)
    if wire == "bedrock":
        from chia.llm import read_api_key
        from chia.testing.bedrock_server import BedrockServer

        credentials = {read_api_key("AWS_ACCESS_KEY_ID"): read_api_key("AWS_SECRET_ACCESS_KEY")}
        return BedrockServer(script, credentials=credentials, region=region, record_path=record)
    if wire == "vertex":
        from chia.testing.vertex_server import ServiceAccount, VertexServer

        account = ServiceAccount.generate()
        server = VertexServer(
            script,
            project=project,
            location=location,
            client_email=account.email,
            public_key_pem=account.public_key_pem,
            record_path=record,
        )
        server.account = account
        return server
    from chia.testing.openai_server import OpenAIServer

    return OpenAIServer(script, api_key=key, record_path=record)


app.command("fake-server")(fake_server)
