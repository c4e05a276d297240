"""``chia llm``: model tools. ``chia llm fake-server`` serves a reply script for dry runs."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import typer

from chia.cli._output import console

app = typer.Typer(help="Language-model tools (a scripted OpenAI-compatible server).")


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
) -> None:
    """Serve an OpenAI-compatible chat-completions API that replays SCRIPT.

    Point a campaign at it with `chia spawn-site --model openai_compatible:<model>
    --llm-base-url <printed URL>`. Stops on Ctrl-C or SIGTERM.
    """
    from chia.llm import Script, read_api_key
    from chia.testing.openai_server import OpenAIServer

    parsed = Script.load(script)
    key = read_api_key(api_key_env) if api_key_env else None
    server = OpenAIServer(parsed, api_key=key, record_path=record)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        url = await server.start_async(host, port)
        if url_file is not None:
            url_file.write_text(url + "\n")
        console.print(
            f"fake OpenAI server on {url} ({len(parsed.responses)} scripted replies"
            f"{', then the default' if parsed.default else ''})",
            markup=False,
        )
        try:
            await stop.wait()
        finally:
            await server.stop_async()
        console.print(f"served {len(server.requests)} request(s); stopped", markup=False)

    asyncio.run(serve())


app.command("fake-server")(fake_server)
