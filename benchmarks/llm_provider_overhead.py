"""Per-call overhead of chia's provider layer over a bare LangChain call, per provider.

For each provider (anthropic, bedrock, vertex, and openai for reference) one fake server
for its wire format runs on a loopback port, and the same LangChain chat model answers
both sides, interleaved call by call so that both see the same server and machine:

* bare: ``chat_model.bind_tools(tools).ainvoke(messages)``, the tools bound once and the
  LangChain messages built once, as a hand-written LangChain program would;
* ours: ``llm.complete(messages, tools)`` (chia's ChatMessage/ToolSpec in, Completion out:
  conversion, tool binding per call, retry wrapper, error classification set-up).

It prints p50 and p90 of each side and the p50 of the per-pair difference (target:
<= 1 ms p50 overhead).

    .venv/bin/python benchmarks/llm_provider_overhead.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chia.llm import ChatMessage, ToolSpec, make_llm
from chia.testing.anthropic_server import anthropic_server
from chia.testing.bedrock_server import bedrock_server
from chia.testing.openai_server import openai_server
from chia.testing.vertex_server import ServiceAccount, vertex_server, write_adc_file

KEY = "sk-bench-0123456789abcdef"
REPLY = {"tool_calls": [{"name": "send_message", "arguments": {"recipient": "b", "content": "hi"}}],
         "usage": {"prompt_tokens": 300, "completion_tokens": 20}}  # fmt: skip
TOOLS = [
    ToolSpec(name=f"tool_{i}", description=f"Tool {i}.",
             parameters={"type": "object", "properties": {"value": {"type": "integer"}}})
    for i in range(4)
] + [ToolSpec(name="send_message", description="Send a message.", parameters={
    "type": "object", "properties": {"recipient": {"type": "string"},
                                     "content": {"type": "string"}}})]  # fmt: skip
MESSAGES = [ChatMessage.system("You are agent a. " * 40), ChatMessage.user('{"round": 3}' * 30)]


@contextlib.contextmanager
def provider(name: str, workdir: Path) -> Iterator[Any]:
    """The provider's model, built by make_llm against its fake server."""
    script = {"responses": [], "default": REPLY}
    if name == "anthropic":
        os.environ["CHIA_BENCH_KEY"] = KEY
        with anthropic_server(script, api_key=KEY) as server:
            yield make_llm("anthropic", "claude-sonnet-4-5", base_url=server.url,
                           api_key_env="CHIA_BENCH_KEY")  # fmt: skip
    elif name == "bedrock":
        os.environ.update(AWS_ACCESS_KEY_ID="AKIABENCH", AWS_SECRET_ACCESS_KEY=KEY,
                          AWS_REGION="us-east-1")  # fmt: skip
        with bedrock_server(script, credentials={"AKIABENCH": KEY}, region="us-east-1") as server:
            yield make_llm("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                           base_url=server.url)  # fmt: skip
    elif name == "vertex":
        account = ServiceAccount.generate()
        with vertex_server(script, project="bench", location="us-central1",
                           account=account) as server:  # fmt: skip
            adc = write_adc_file(workdir / "adc.json", account, f"{server.url}/token", "bench")
            os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = str(adc)
            yield make_llm("vertex", "gemini-2.5-flash", base_url=server.url)
    else:
        os.environ["CHIA_BENCH_KEY"] = KEY
        with openai_server(script, api_key=KEY) as server:
            yield make_llm("openai", "gpt-4.1-mini", base_url=server.url,
                           api_key_env="CHIA_BENCH_KEY")  # fmt: skip


async def measure(llm: Any, calls: int) -> tuple[list[float], list[float]]:
    """Interleaved timings (seconds) of bare LangChain calls and ours."""
    from chia.llm.langchain_chat import to_langchain

    bound = llm.chat_model.bind_tools([t.openai_schema() for t in TOOLS])
    messages = [to_langchain(m) for m in MESSAGES]
    bare: list[float] = []
    ours: list[float] = []
    for i in range(calls + calls // 10):
        warm = i < calls // 10
        order = (True, False) if i % 2 else (False, True)
        for is_bare in order:
            started = time.perf_counter()
            if is_bare:
                await bound.ainvoke(messages)
            else:
                await llm.complete(MESSAGES, TOOLS)
            elapsed = time.perf_counter() - started
            if not warm:
                (bare if is_bare else ours).append(elapsed)
    return bare, ours


def _ms(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values``, in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--providers", default="anthropic,bedrock,vertex,openai")
    args = parser.parse_args()
    header = f"{'provider':<10} {'bare p50':>9} {'ours p50':>9} {'bare p90':>9} {'ours p90':>9}"
    print(f"{header} {'overhead p50':>13}   (ms; {args.calls} calls each, interleaved)")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.providers.split(","):
            with provider(name, Path(tmp)) as llm:
                bare, ours = asyncio.run(measure(llm, args.calls))
            overhead = statistics.median(o - b for o, b in zip(ours, bare, strict=True)) * 1000
            print(
                f"{name:<10} {_ms(bare, 0.5):9.3f} {_ms(ours, 0.5):9.3f} {_ms(bare, 0.9):9.3f} "
                f"{_ms(ours, 0.9):9.3f} {overhead:13.3f}"
            )


if __name__ == "__main__":
    main()
