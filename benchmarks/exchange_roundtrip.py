"""Round-trip latency and throughput: bare Academy actions per exchange vs. the raw floors.

Usage: python benchmarks/exchange_roundtrip.py [--n 1000] [--inflight 100] [--per-worker 20]
       [--rounds 10] [--only local,redis,...]

``--only`` names exchanges (local, hybrid, redis, redis-fast, http, http+redis, push,
push+redis, aiohttp; push+redis is the push exchange with ``--backend redis``); a floor
runs with its exchange (raw request/reply with redis and redis-fast, raw GET with
aiohttp, the WebSocket echoes with push: in one process, and between two processes).
The table ends with the push targets (``PUSH_TARGETS``: p50 within 2x of the
two-process WebSocket echo floor, at least 5x faster than Academy's HTTP exchange, at
least 5,000 msg/s in flight) and the redis-fast targets (``REDIS_FAST_TARGETS``: p50
within 2x of the raw Redis floor, at least 3x faster than Academy's Redis exchange).

Every measured path is one ``async def measure_<path>(env, opts)`` registered in ``PATHS``;
it starts what it needs on the shared services in ``env`` (a real redis-server and
self-hosted HTTP exchanges, started here on free loopback ports). chia's rows
(``measure_pair``) run next to bare Academy carrying the same payload, both agents up at
once and measured in alternating blocks, and the table ends with chia's overhead per
exchange against this issue's target (``TARGET``).

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
import dataclasses
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from academy.agent import Agent, action
from academy.exchange import ExchangeFactory, UserExchangeClient
from academy.handle import Handle
from academy.runtime import Runtime

from chia.agent import Envelope, ScriptedPolicy
from chia.agent.campaign_agent import AgentSetup, CampaignAgent
from chia.campaign import load_campaign
from chia.events import EventWriter
from chia.events.durability import FsyncMode
from chia.exchange import (
    ExchangeSettings,
    agent_id,
    json_only,
    open_factory,
    register_agent,
    runtime_config,
    user_client,
)
from chia.exchange.push.process import PushServer
from chia.names import random_id
from chia.site.host import settle_heap
from chia.testing import RedisServer, http_exchange, redis_server

#: The targets: chia adds at most this much over bare Academy on each exchange, and
#: durable receipt (acknowledged once fsynced) costs at most this much over the same
#: receive path without fsync (a killed process loses nothing either way).
TARGET = 0.10
#: How often the benchmarked campaign agent's inbox is emptied (a stand-in for its turns).
DRAIN_EVERY_S = 0.005
#: Push targets: p50 at most this many times the two-process WebSocket echo floor,
#: Academy's HTTP exchange at least this many times slower than push, and at least this
#: many messages per second at ``--inflight`` (issue 13).
PUSH_TARGETS = (2.0, 5.0, 5000.0)
#: redis-fast targets: p50 at most this many times the raw Redis request/reply floor, and
#: Academy's Redis exchange at least this many times slower (issue 13).
REDIS_FAST_TARGETS = (2.0, 3.0)


@dataclass(frozen=True)
class Options:
    n: int  # sequential round trips for p50/p99
    inflight: int  # concurrent callers for msg/s
    per_worker: int  # requests per concurrent caller
    rounds: int  # alternating blocks when chia and Academy are measured side by side


@dataclass(frozen=True)
class Env:
    redis: RedisServer
    http_memory_url: str
    http_redis_url: str
    push_url: str
    push_redis_url: str


@dataclass(frozen=True)
class Bench:
    """One exchange's factory and the user client calling the benchmarked agents."""

    factory: ExchangeFactory[Any]
    client: UserExchangeClient[Any]


@dataclass(frozen=True)
class Row:
    path: str
    exchange: str
    p50_ms: float
    p99_ms: float
    msgs_per_s: float
    #: chia rows: overhead over the row's baseline as (p50, time per message at
    #: ``inflight``), each the median over rounds of that round's ratio minus one.
    overhead: tuple[float, float] | None = None
    baseline: str = ""


class Echo(Agent):
    """Benchmark agent: one trivial action."""

    @action
    async def echo(self, value: Any) -> Any:
        """Return ``value``."""
        return value


async def _latencies(call: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    """``n`` sequential round trips of ``call``, in seconds."""
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def _throughput_s(call: Callable[[], Awaitable[Any]], opts: Options) -> float:
    """Seconds for ``opts.inflight`` callers making ``opts.per_worker`` calls each, at once."""

    async def worker() -> None:
        for _ in range(opts.per_worker):
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(opts.inflight)))
    return time.perf_counter() - started


def _row(path: str, exchange: str, samples: list[float], seconds: float, calls: int) -> Row:
    samples = sorted(samples)
    return Row(
        path=path,
        exchange=exchange,
        p50_ms=statistics.median(samples) * 1000,
        p99_ms=samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000,
        msgs_per_s=calls / seconds,
    )


async def _measure(
    call: Callable[[], Awaitable[Any]], opts: Options, path: str, exchange: str
) -> Row:
    await _latencies(call, min(50, opts.n))  # warm up
    samples = await _latencies(call, opts.n)
    seconds = await _throughput_s(call, opts)
    return _row(path, exchange, samples, seconds, opts.inflight * opts.per_worker)


def settings_for(kind: str, env: Env) -> ExchangeSettings:
    """Exchange settings of one benchmarked exchange, on the shared services."""
    if kind == "http":
        return ExchangeSettings(kind="http", url=env.http_memory_url)
    if kind == "http+redis":
        return ExchangeSettings(kind="http", url=env.http_redis_url)
    if kind == "push":
        return ExchangeSettings(kind="push", url=env.push_url)
    if kind == "push+redis":
        return ExchangeSettings(kind="push", url=env.push_redis_url)
    if kind in ("redis", "redis-fast", "hybrid"):
        interface = {"hybrid_interface": "lo"} if kind == "hybrid" else {}
        return ExchangeSettings(kind=kind, redis_port=env.redis.port, redis_db=1, **interface)  # type: ignore[arg-type]
    return ExchangeSettings(kind="local")


@contextlib.asynccontextmanager
async def bench_client(settings: ExchangeSettings) -> AsyncIterator[Bench]:
    """One exchange (one factory) and the user client that calls the benchmarked agents."""
    factory = open_factory(settings)
    async with user_client(factory, name="bench") as client:
        yield Bench(factory, client)


@contextlib.asynccontextmanager
async def running_echo(bench: Bench) -> AsyncIterator[Handle[Any]]:
    """One running Echo agent (preset uid); yields a handle to it."""
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    registration = await register_agent(bench.client, Echo, run_id, "echo")
    runtime = Runtime(
        Echo(), exchange_factory=bench.factory, registration=registration, config=runtime_config()
    )
    async with runtime:
        yield Handle(agent_id(run_id, "echo"))


async def measure_academy(env: Env, opts: Options, kind: str) -> Row:
    """Bare Academy: a user Handle calling one action of a running agent."""
    async with bench_client(settings_for(kind, env)) as bench, running_echo(bench) as handle:
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


async def _measure_echo(port: int, opts: Options, path: str) -> Row:
    """Round trips over one WebSocket to the echo server on ``port``.

    Calls in flight share the socket; each waits for its own echo (matched by id), as
    the push transport matches replies.
    """
    import aiohttp

    waiting: dict[str, asyncio.Future[None]] = {}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"http://127.0.0.1:{port}/") as ws,
    ):

        async def read() -> None:
            async for message in ws:
                waiting.pop(message.data).set_result(None)

        reader = asyncio.create_task(read())

        async def call() -> None:
            key = uuid.uuid4().hex
            waiting[key] = asyncio.get_running_loop().create_future()
            await ws.send_str(key)
            await waiting[key]

        try:
            return await _measure(call, opts, path, "websocket")
        finally:
            reader.cancel()


async def measure_raw_websocket(env: Env, opts: Options) -> Row:
    """Floor: raw aiohttp WebSocket echo, client and server in this process, one socket."""
    from aiohttp import web

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(message.data)
        return ws

    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        return await _measure_echo(port, opts, "raw WS echo")
    finally:
        await runner.cleanup()  # after the client closed its socket: no handler to wait for


#: The echo server of the two-process floor, run by ``sys.executable -c``: it prints its
#: port, then echoes every text frame on ``/`` until stdin closes.
_ECHO_SERVER = """
import asyncio, sys
from aiohttp import web

async def echo(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        await ws.send_str(message.data)
    return ws

async def main():
    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()

asyncio.run(main())
"""


async def measure_raw_websocket_2proc(env: Env, opts: Options) -> Row:
    """Floor: raw aiohttp WebSocket echo between two processes (the push target's floor).

    The echo server runs in a child process; the client is :func:`_measure_echo`'s.
    """
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-c", _ECHO_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(await asyncio.to_thread(child.stdout.readline))
        return await _measure_echo(port, opts, "raw WS echo 2proc")
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextlib.asynccontextmanager
async def running_campaign_agent(
    bench: Bench, workdir: Path, fsync: FsyncMode
) -> AsyncIterator[tuple[Handle[Any], str]]:
    """One chia campaign agent (events and status written as in a run); yields a handle.

    ``fsync`` is the durability of its receive events: ``batch`` is what a site runs
    with (acknowledged once on disk); ``none`` acknowledges once written (safe from a
    killed process, not from a lost machine), which is the receive path without fsync.

    The agent is not started on turns, but its inbox is drained every ``DRAIN_EVERY_S``,
    as a running agent's turns would take its messages in batches, so they do not pile
    up in memory (the turns themselves are not the messaging path, and not measured).
    """
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    spec = load_campaign("federated-chat").spec
    name = "agent-crux"
    registration = await register_agent(bench.client, CampaignAgent, run_id, name)
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
        fsync=fsync,
    )
    assert spec.policy is not None
    agent = CampaignAgent(setup, ScriptedPolicy(spec.policy))
    runtime = Runtime(
        agent, exchange_factory=bench.factory, registration=registration, config=runtime_config()
    )

    async def drain() -> None:
        while True:
            await asyncio.sleep(DRAIN_EVERY_S)
            agent.queued_messages()

    with setup.writer:
        async with runtime:
            consumer = asyncio.create_task(drain())
            try:
                yield Handle(agent_id(run_id, name)), run_id
            finally:
                consumer.cancel()


async def measure_pair(env: Env, opts: Options, kind: str) -> list[Row]:
    """chia's receive path next to bare Academy carrying the same payload.

    chia: a fresh Envelope (as a sender builds one) to ``receive_message``, which
    validates it, appends a Lamport-stamped receive event to the agent's file, counts it
    and queues it for a turn. The agent is not started on turns (its inbox is drained
    without them), so the figure is the messaging path alone. Academy: an ``echo``
    action given a fresh envelope-sized JSON object (a new message id per call, as any
    sender would make).

    Both agents run side by side through ``opts.rounds`` rounds, each with freshly started
    agents and the two measured in alternating order, so drift on a shared VM and the
    luck of one process's memory layout hit both alike.
    """
    template = Envelope(run_id="r", sender="agent-aurora", recipient="agent-crux", content="x")
    data = template.model_dump(mode="json")
    paths = ("academy (envelope)", "chia receive", "chia durable")
    #: Each chia path against its baseline: receipt vs Academy, fsync vs none.
    baselines = {"chia receive": "academy (envelope)", "chia durable": "chia receive"}
    samples: dict[str, list[float]] = {path: [] for path in paths}
    seconds = dict.fromkeys(paths, 0.0)
    ratios: dict[str, tuple[list[float], list[float]]] = {p: ([], []) for p in baselines}
    block = max(1, opts.n // opts.rounds)
    with tempfile.TemporaryDirectory(prefix="chia-bench-") as tmp:
        async with bench_client(settings_for(kind, env)) as bench:
            for round_ in range(opts.rounds):
                async with (
                    running_echo(bench) as echo,
                    running_campaign_agent(bench, Path(tmp), "none") as (fast, fast_run),
                    running_campaign_agent(bench, Path(tmp), "batch") as (durable, durable_run),
                ):

                    async def academy() -> None:
                        await echo.echo(data | {"message_id": random_id()})

                    def receive(agent: Handle[Any], run: str) -> Callable[[], Awaitable[None]]:
                        async def call() -> None:
                            envelope = Envelope(
                                run_id=run,
                                sender="agent-aurora",
                                recipient="agent-crux",
                                content="x",
                            )
                            await agent.receive_message(envelope.model_dump(mode="json"))

                        return call

                    calls = dict(
                        zip(
                            paths,
                            (academy, receive(fast, fast_run), receive(durable, durable_run)),
                            strict=True,
                        )
                    )
                    p50: dict[str, float] = {}
                    took: dict[str, float] = {}
                    for path in paths if round_ % 2 == 0 else reversed(paths):
                        await _latencies(calls[path], min(50, block))  # warm up
                        latencies = await _latencies(calls[path], block)
                        samples[path] += latencies
                        p50[path] = statistics.median(latencies)
                        took[path] = await _throughput_s(calls[path], opts)
                        seconds[path] += took[path]
                    for path, base in baselines.items():
                        ratios[path][0].append(p50[path] / p50[base] - 1)
                        ratios[path][1].append(took[path] / took[base] - 1)
    total = opts.rounds * opts.inflight * opts.per_worker
    rows = [_row(path, kind, samples[path], seconds[path], total) for path in paths]
    return [
        dataclasses.replace(
            row,
            overhead=(
                statistics.median(ratios[row.path][0]),
                statistics.median(ratios[row.path][1]),
            ),
            baseline=baselines[row.path],
        )
        if row.path in baselines
        else row
        for row in rows
    ]


Measure = Callable[[Env, Options], Awaitable[list[Row]]]


def _one(measure: Callable[[Env, Options], Awaitable[Row]]) -> Measure:
    async def run(env: Env, opts: Options) -> list[Row]:
        return [await measure(env, opts)]

    return run


def _academy(kind: str) -> Measure:
    return _one(lambda env, opts: measure_academy(env, opts, kind))


def _pair(kind: str) -> Measure:
    return lambda env, opts: measure_pair(env, opts, kind)


#: The raw Redis floor, listed under both Redis exchanges (measured once per run).
RAW_REDIS = _one(measure_raw_redis)

#: Every measured path as (exchange, measure), in table order.
PATHS: list[tuple[str, Measure]] = [
    *((kind, _academy(kind)) for kind in ("local", "hybrid", "redis", "http", "http+redis")),
    ("push", _academy("push")),
    ("push+redis", _academy("push+redis")),
    ("redis-fast", _academy("redis-fast")),
    *((kind, _pair(kind)) for kind in ("local", "redis", "redis-fast", "http", "push")),
    ("redis", RAW_REDIS),
    ("redis-fast", RAW_REDIS),
    ("aiohttp", _one(measure_raw_aiohttp)),
    ("push", _one(measure_raw_websocket)),
    ("push", _one(measure_raw_websocket_2proc)),
]
EXCHANGES = sorted({exchange for exchange, _ in PATHS})


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
    print(
        f"\noverheads (same payload; median over {opts.rounds} rounds of each round's ratio; "
        "chia receive vs bare Academy, chia durable (fsync batch) vs chia receive (no fsync)):"
    )
    for row in rows:
        if row.overhead is not None:
            latency, rate = row.overhead
            verdict = "ok" if max(latency, rate) <= TARGET else "OVER TARGET"
            print(
                f"  {row.exchange:<6} {row.path:<13} vs {row.baseline:<19} p50 {latency:+6.1%}  "
                f"time per msg at {opts.inflight} in flight {rate:+6.1%}  "
                f"({verdict}: <= {TARGET:.0%})"
            )


def _verdict(ok: bool, word: str = "OVER TARGET") -> str:
    return "ok" if ok else word


def print_push_verdict(rows: list[Row]) -> None:
    """The push targets, when push, its floor and Academy's HTTP exchange were measured."""
    p50 = {(row.path, row.exchange): row.p50_ms for row in rows}
    rate = {(row.path, row.exchange): row.msgs_per_s for row in rows}
    push = p50.get(("academy action", "push"))
    floor = p50.get(("raw WS echo 2proc", "websocket"))
    if push is None or floor is None:
        return
    most_floor, least_http, least_rate = PUSH_TARGETS
    print(
        f"\npush: academy action p50 {push:.2f} ms = {push / floor:.1f}x the two-process "
        f"WebSocket echo floor ({floor:.2f} ms; "
        f"{_verdict(push <= most_floor * floor)}: <= {most_floor:.0f}x)"
    )
    msgs = rate[("academy action", "push")]
    print(
        f"push: {msgs:,.0f} msg/s at the in-flight count "
        f"({_verdict(msgs >= least_rate, 'UNDER TARGET')}: >= {least_rate:,.0f})"
    )
    http = p50.get(("academy action", "http"))
    if http is not None:
        print(
            f"push: Academy's HTTP exchange p50 {http:.2f} ms = {http / push:.1f}x push "
            f"({_verdict(http >= least_http * push, 'UNDER TARGET')}: >= {least_http:.0f}x)"
        )


def print_redis_fast_verdict(rows: list[Row]) -> None:
    """The redis-fast targets, against the raw Redis floor and Academy's Redis exchange."""
    p50 = {(row.path, row.exchange): row.p50_ms for row in rows}
    fast = p50.get(("academy action", "redis-fast"))
    floor = p50.get(("raw request/reply", "redis"))
    if fast is None or floor is None:
        return
    most_floor, least_academy = REDIS_FAST_TARGETS
    print(
        f"\nredis-fast: academy action p50 {fast:.2f} ms = {fast / floor:.1f}x the raw "
        f"Redis request/reply floor ({floor:.2f} ms; "
        f"{_verdict(fast <= most_floor * floor)}: <= {most_floor:.0f}x)"
    )
    academy = p50.get(("academy action", "redis"))
    if academy is not None:
        verdict = _verdict(academy >= least_academy * fast, "UNDER TARGET")
        print(
            f"redis-fast: Academy's Redis exchange p50 {academy:.2f} ms = "
            f"{academy / fast:.1f}x redis-fast ({verdict}: >= {least_academy:.0f}x)"
        )


async def run_all(env: Env, opts: Options, only: set[str]) -> list[Row]:
    """Measure every path in ``PATHS`` on the exchanges in ``only`` against ``env``.

    The heap is settled first, as a chia host settles its own after start-up; otherwise
    full collections walking every imported object stall whichever path happens to be
    running (both share this process), which is noise, not either path's cost.
    """
    settle_heap()
    rows = []
    done: set[int] = set()
    with json_only():
        for exchange, measure in PATHS:
            if exchange in only and id(measure) not in done:
                done.add(id(measure))
                print(f"measuring {exchange} ...", flush=True)
                rows += await measure(env, opts)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--inflight", type=int, default=100)
    parser.add_argument("--per-worker", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10, help="Alternating chia/Academy blocks.")
    parser.add_argument(
        "--only",
        default=",".join(EXCHANGES),
        help=f"Comma-separated exchanges to measure (default: all of {','.join(EXCHANGES)}).",
    )
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    if not only or only - set(EXCHANGES):
        parser.error(f"--only takes names from {','.join(EXCHANGES)}; got {args.only!r}")
    opts = Options(n=args.n, inflight=args.inflight, per_worker=args.per_worker, rounds=args.rounds)
    with (
        redis_server() as redis,
        http_exchange() as http_memory,
        http_exchange(backend="redis", redis_url=redis.url(3)) as http_redis,
        PushServer() as push,
        PushServer(backend="redis", redis_url=redis.url(4)) as push_redis,
    ):
        env = Env(
            redis=redis,
            http_memory_url=http_memory.url,
            http_redis_url=http_redis.url,
            push_url=push.url,
            push_redis_url=push_redis.url,
        )
        rows = asyncio.run(run_all(env, opts, only))
    print_table(rows, opts)
    print_push_verdict(rows)
    print_redis_fast_verdict(rows)


if __name__ == "__main__":
    main()
