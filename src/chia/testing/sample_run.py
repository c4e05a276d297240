"""Runs written with the real event models, no demo needed: a small one, or any size.

:func:`write_two_site_run` writes six events with the real writers.
:func:`write_generated_run` writes a campaign of any size (``sites`` x ``agents``, each
turn a receipt, a model call, a decision and a send to a random peer), with each site's
wall clock off by ``skew_s`` more than the one before, so receipts at a late site carry
earlier times than their sends.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from chia.events import (
    SITE_WRITER,
    AgentPlacement,
    AgentRunning,
    AgentState,
    AgentStatus,
    Decision,
    EventBase,
    EventWriter,
    LLMCall,
    MessageReceived,
    MessageSent,
    Placement,
    SiteStarted,
    events_path,
    write_snapshot,
)

__all__ = ["write_generated_run", "write_two_site_run"]

E = TypeVar("E", bound=EventBase)


def write_two_site_run(root: Path, run_id: str = "run-1") -> Path:
    """Write ``<root>/<run_id>/{aurora,crux}``: six events, statuses and placements.

    Sites aurora (agent ``agent-a``) and crux (agent ``agent-c``); ``agent-a`` sends one
    message to ``agent-c``, whose receipt carries Lamport clock 10.

    Returns:
        The run directory.
    """
    run = root / run_id
    now = datetime.now(timezone.utc)
    for site, agent in (("aurora", "agent-a"), ("crux", "agent-c")):
        site_dir = run / site
        with EventWriter(
            events_path(site_dir, SITE_WRITER), run_id=run_id, site=site, writer=SITE_WRITER
        ) as w:
            w.emit(SiteStarted, launcher="local", agents=[agent], exchange="http", host="h")
        with EventWriter(events_path(site_dir, agent), run_id=run_id, site=site, writer=agent) as w:
            w.emit(AgentRunning)
        status = AgentStatus(
            run_id=run_id,
            site=site,
            agent=agent,
            uid=f"uid-{agent}",
            state=AgentState.RUNNING,
            host=f"{site}-node",
            updated=now,
        )
        write_snapshot(site_dir / "status" / f"{agent}.json", status)
        placement = Placement(
            run_id=run_id,
            site=site,
            launcher="local",
            exchange="http",
            updated=now,
            agents=[AgentPlacement(agent=agent, uid=f"uid-{agent}", host=f"{site}-node", rank=0)],
        )
        write_snapshot(site_dir / "placement.json", placement)
    with EventWriter(
        events_path(run / "aurora", "agent-a"), run_id=run_id, site="aurora", writer="agent-a"
    ) as w:
        w.clock.observe(1)
        w.emit(
            MessageSent,
            message_id="m1",
            sender="agent-a",
            recipient="agent-c",
            message_kind="chat",
            round=1,
            tldr="hello",
            recipient_site="crux",
        )
    with EventWriter(
        events_path(run / "crux", "agent-c"), run_id=run_id, site="crux", writer="agent-c"
    ) as w:
        w.emit(
            MessageReceived,
            clock=10,
            message_id="m1",
            sender="agent-a",
            recipient="agent-c",
            message_kind="chat",
            round=1,
            sender_site="aurora",
        )
    return run


class _Generator:
    """The agents of a generated run, their clocks, inboxes and open files."""

    def __init__(self, run: Path, sites: int, agents: int, skew_s: float, seed: int) -> None:
        self.run_id = run.name
        self.rng = random.Random(seed)
        self.names = [(f"site-{k}", f"s{k}-agent-{j}") for k in range(sites) for j in range(agents)]
        self.site_of = {agent: site for site, agent in self.names}
        self.late = {f"site-{k}": timedelta(seconds=skew_s * k) for k in range(sites)}
        self.clocks = dict.fromkeys(self.site_of, 0)
        self.inbox: dict[str, list[MessageSent]] = {agent: [] for agent in self.site_of}
        self.files = {}
        for site, agent in self.names:
            path = run / site / "events" / f"{agent}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.files[agent] = path.open("w", encoding="utf-8")
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.written = 0

    def emit(self, agent: str, kind: type[E], seen: int = 0, **fields: Any) -> E:
        self.now += timedelta(microseconds=self.rng.randrange(50, 5000))
        site = self.site_of[agent]
        self.clocks[agent] = max(self.clocks[agent], seen) + 1
        event = kind(
            run_id=self.run_id,
            site=site,
            agent=agent,
            clock=self.clocks[agent],
            timestamp=self.now - self.late[site],
            **fields,
        )
        self.files[agent].write(event.model_dump_json() + "\n")
        self.written += 1
        return event

    def receive(self, agent: str) -> str:
        got = self.inbox[agent].pop(0)
        fields = got.model_dump(include={"message_id", "sender", "recipient", "round", "tldr"})
        site = self.site_of[got.sender]
        self.emit(
            agent, MessageReceived, got.clock, message_kind="chat", sender_site=site, **fields
        )
        return got.message_id

    def turn(self, agent: str, number: int) -> None:
        consumed = [self.receive(agent)] if self.inbox[agent] else []
        latency = round(self.rng.uniform(0.001, 0.004), 6)
        tokens_in, tokens_out = self.rng.randrange(2000), self.rng.randrange(300)
        priced = number % 5 != 0  # every fifth call has no price, as an unlisted model would
        self.emit(
            agent,
            LLMCall,
            provider="fake",
            model="m",
            latency_s=latency,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            tokens_cached=tokens_in // 4,
            cost_usd=(tokens_in + 4 * tokens_out) / 1e6 if priced else None,
            cost_note="sample prices" if priced else "no price for fake:m",
        )
        peer_site, peer = self.names[self.rng.randrange(len(self.names))]
        sent = self.emit(
            agent,
            MessageSent,
            message_id=f"m{number}",
            sender=agent,
            recipient=peer,
            message_kind="chat",
            round=number,
            tldr=f"counter = {number}",
            recipient_site=peer_site,
        )
        self.inbox[peer].append(sent)
        self.emit(
            agent,
            Decision,
            round=number,
            policy="generated",
            actions=["send_message"],
            consumed=consumed,
            sent=[sent.message_id],
        )


def write_generated_run(
    root: Path,
    run_id: str = "gen-1",
    *,
    events: int = 10_000,
    sites: int = 2,
    agents: int = 2,
    skew_s: float = 0.0,
    seed: int = 7,
) -> Path:
    """Write ``<root>/<run_id>/site-<k>/events/<agent>.jsonl``: about ``events`` events.

    Agents are named ``s<k>-agent-<j>`` (distinct per site). Each turn of an agent takes
    the oldest message addressed to it (if any), calls the model, sends one message to a
    random agent and records the decision; every message is received by the end. Site
    ``k``'s wall clock runs ``k * skew_s`` seconds behind site 0's.

    Returns:
        The run directory.
    """
    run = root / run_id
    gen = _Generator(run, sites, agents, skew_s, seed)
    number = 0
    while gen.written < events:
        gen.turn(gen.names[number % len(gen.names)][1], number)
        number += 1
    for agent, handle in gen.files.items():
        while gen.inbox[agent]:
            gen.receive(agent)
        handle.close()
    return run
