"""Round-trip latency and throughput: bare Academy actions per exchange vs. the raw floors.

Usage: python benchmarks/exchange_roundtrip.py [--n 500] [--inflight 100] [--per-worker 20]

Every measured path is one ``async def measure_<path>(env, opts) -> Row`` registered in
``PATHS``; it starts what it needs on the shared services in ``env`` (a real redis-server
and self-hosted HTTP exchanges, started here on free loopback ports). chia's rows
(``measure_chia``) sit next to bare Academy carrying the same payload.

Metrics per row:
* p50 / p99: sequential round trips (one in flight), in milliseconds.
* msg/s: requests completed per second with ``--inflight`` callers in flight at once.

Bare Academy rows run the agent exactly as chia does (JSON requests, pickle refused:
``chia.exchange.runtime_config`` / ``json_only``), so a chia row compares like for like.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from academy.agent import Agent, action
from academy.handle import Handle
from academy.runtime import Runtime

from chia.agent import Envelope, ScriptedPolicy
from chia.agent.campaign_agent import AgentSetup, CampaignAgent
from chia.campaign import load_campaign
from chia.events import EventWriter
from chia.exchange import (
    ExchangeSettings,
    agent_id,
    json_only,
    open_factory,
    register_agent,
    runtime_config,
    user_client,
)
from chia.testing import RedisServer, http_exchange, redis_server


@dataclass(frozen=True)
class Options:
    n: int  # sequential round trips for p50/p99
    inflight: int  # concurrent callers for msg/s
    per_worker: int  # requests per concurrent caller


@dataclass(frozen=True)
class Env:
    redis: RedisServer
    http_memory_url: str
    http_redis_url: str


@dataclass(frozen=True)
class Row:
    path: str
    exchange: str
    p50_ms: float
    p99_ms: float
    msgs_per_s: float


class Echo(Agent):
    """Benchmark agent: one trivial action."""

    @action
    async def echo(self, value: Any) -> Any:
        """Return ``value``."""
        return value


async def _measure(
    call: Callable[[], Awaitable[Any]], opts: Options, path: str, exchange: str
) -> Row:
    for _ in range(min(50, opts.n)):
        await call()
    samples = []
    for _ in range(opts.n):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    samples.sort()

    async def worker() -> None:
        for _ in range(opts.per_worker):
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(opts.inflight)))
    elapsed = time.perf_counter() - started
    return Row(
        path=path,
        exchange=exchange,
        p50_ms=statistics.median(samples) * 1000,
        p99_ms=samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000,
        msgs_per_s=opts.inflight * opts.per_worker / elapsed,
    )


def settings_for(kind: str, env: Env) -> ExchangeSettings:
    """Exchange settings of one benchmarked exchange, on the shared services."""
    if kind == "http":
        return ExchangeSettings(kind="http", url=env.http_memory_url)
    if kind == "http+redis":
        return ExchangeSettings(kind="http", url=env.http_redis_url)
    if kind in ("redis", "hybrid"):
        interface = {"hybrid_interface": "lo"} if kind == "hybrid" else {}
        return ExchangeSettings(kind=kind, redis_port=env.redis.port, redis_db=1, **interface)
    return ExchangeSettings(kind="local")


@contextlib.asynccontextmanager
async def running_echo(settings: ExchangeSettings) -> AsyncIterator[Handle[Any]]:
    """A user client plus one running Echo agent (preset uid); yields a handle to it."""
    factory = open_factory(settings)
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    async with user_client(factory, name="bench") as client:
        registration = await register_agent(client, Echo, run_id, "echo")
        runtime = Runtime(
            Echo(), exchange_factory=factory, registration=registration, config=runtime_config()
        )
        async with runtime:
            yield Handle(agent_id(run_id, "echo"))


async def measure_academy(env: Env, opts: Options, kind: str) -> Row:
    """Bare Academy: a user Handle calling one action of a running agent."""
    async with running_echo(settings_for(kind, env)) as handle:
        return await _measure(lambda: handle.echo("x"), opts, "academy action", kind)


async def measure_raw_redis(env: Env, opts: Options) -> Row:
    """Floor: raw Redis request/reply (LPUSH request; server BRPOP, LPUSH reply; BRPOP)."""
    import redis.asyncio as aioredis

    def connect() -> aioredis.Redis:
        return aioredis.Redis(
            host=env.redis.host, port=env.redis.port, db=2, max_connections=10_000
        )

    server, client = connect(), connect()
    prefix = uuid.uuid4().hex

    async def serve() -> None:
        while True:
            _, raw = await server.brpop([f"{prefix}:req"], timeout=0)  # type: ignore[misc]
            reply_key, _, body = raw.partition(b"|")
            await server.lpush(reply_key, body)  # type: ignore[misc]

    async def call() -> None:
        reply_key = f"{prefix}:rep:{uuid.uuid4().hex}"
        await client.lpush(f"{prefix}:req", f"{reply_key}|x")  # type: ignore[misc]
        await client.brpop([reply_key], timeout=0)  # type: ignore[misc]

    task = asyncio.create_task(serve())
    try:
        return await _measure(call, opts, "raw request/reply", "redis")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.aclose()
        await client.aclose()


async def measure_raw_aiohttp(env: Env, opts: Options) -> Row:
    """Floor: raw aiohttp GET on loopback (keep-alive session, 100-connection pool)."""
    import aiohttp
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="x")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    connector = aiohttp.TCPConnector(limit=opts.inflight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> None:
            async with session.get(f"http://127.0.0.1:{port}/") as response:
                await response.read()

        try:
            return await _measure(call, opts, "raw GET", "aiohttp")
        finally:
            await runner.cleanup()


@contextlib.asynccontextmanager
async def running_campaign_agent(
    settings: ExchangeSettings, workdir: Path
) -> AsyncIterator[tuple[Handle[Any], str]]:
    """One chia campaign agent (events and status written as in a run); yields a handle."""
    factory = open_factory(settings)
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    spec = load_campaign("federated-chat").spec
    name = "agent-crux"
    async with user_client(factory, name="bench") as client:
        registration = await register_agent(client, CampaignAgent, run_id, name)
        setup = AgentSetup(
            run_id=run_id,
            site="bench",
            spec=spec.agent(name),
            task=spec.user_task,
            limits=spec.limits,
            uid=str(registration.agent_id.uid),
            peers={},
            writer=EventWriter(workdir / f"{run_id}.jsonl", run_id=run_id, site="b", writer=name),
            status_path=workdir / f"{run_id}.json",
        )
        assert spec.policy is not None
        agent = CampaignAgent(setup, ScriptedPolicy(spec.policy))
        runtime = Runtime(
            agent, exchange_factory=factory, registration=registration, config=runtime_config()
        )
        async with runtime:
            yield Handle(agent_id(run_id, name)), run_id
        setup.writer.close()


async def measure_chia(env: Env, opts: Options, kind: str) -> Row:
    """chia's receive path: an Envelope to ``receive_message`` (validated, logged, queued).

    The agent is not started on turns, so the figure is the messaging path alone: JSON
    envelope, validation, a Lamport-stamped event appended to its file, status counters.
    """
    with tempfile.TemporaryDirectory(prefix="chia-bench-") as tmp:
        async with running_campaign_agent(settings_for(kind, env), Path(tmp)) as (handle, run):

            async def call() -> None:
                envelope = Envelope(
                    run_id=run, sender="agent-aurora", recipient="agent-crux", content="x"
                )
                await handle.receive_message(envelope.model_dump(mode="json"))

            return await _measure(call, opts, "chia receive", kind)


async def measure_academy_envelope(env: Env, opts: Options, kind: str) -> Row:
    """Bare Academy with the same payload chia sends (an envelope-sized JSON object)."""
    payload = Envelope(run_id="r", sender="agent-aurora", recipient="agent-crux", content="x")
    data = payload.model_dump(mode="json")
    async with running_echo(settings_for(kind, env)) as handle:
        return await _measure(lambda: handle.echo(data), opts, "academy (envelope)", kind)


Measure = Callable[[Env, Options], Awaitable[Row]]


def _academy(kind: str) -> Measure:
    return lambda env, opts: measure_academy(env, opts, kind)


def _pair(kind: str) -> list[Measure]:
    """Bare Academy with chia's payload, then chia, on one exchange (side by side)."""
    return [
        lambda env, opts: measure_academy_envelope(env, opts, kind),
        lambda env, opts: measure_chia(env, opts, kind),
    ]


#: Every measured path, in table order.
PATHS: list[Measure] = [
    *(_academy(kind) for kind in ("local", "hybrid", "redis", "http", "http+redis")),
    *(m for kind in ("local", "redis", "http") for m in _pair(kind)),
    measure_raw_redis,
    measure_raw_aiohttp,
]


def print_table(rows: list[Row], opts: Options) -> None:
    """Print rows as a fixed-width table."""
    print(f"\nround trip: {opts.n} sequential calls; msg/s: {opts.inflight} in flight")
    header = f"{'path':<20} {'exchange':<11} {'p50 ms':>8} {'p99 ms':>8} {'msg/s':>9}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row.path:<20} {row.exchange:<11} {row.p50_ms:>8.2f} {row.p99_ms:>8.2f} "
            f"{row.msgs_per_s:>9.0f}"
        )


async def run_all(env: Env, opts: Options) -> list[Row]:
    """Measure every path in ``PATHS`` against ``env``."""
    rows = []
    with json_only():
        for measure in PATHS:
            rows.append(await measure(env, opts))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--inflight", type=int, default=100)
    parser.add_argument("--per-worker", type=int, default=20)
    args = parser.parse_args()
    opts = Options(n=args.n, inflight=args.inflight, per_worker=args.per_worker)
    with (
        redis_server() as redis,
        http_exchange() as http_memory,
        http_exchange(backend="redis", redis_url=redis.url(3)) as http_redis,
    ):
        env = Env(redis=redis, http_memory_url=http_memory.url, http_redis_url=http_redis.url)
        rows = asyncio.run(run_all(env, opts))
    print_table(rows, opts)


if __name__ == "__main__":
    main()
