"""Helpers for hosting several MCP apps under one ASGI ingress."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

__all__ = ["make_router_lifespan"]


def _lifespan_of(instance: Any) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    apps = getattr(instance, "http_apps", None)
    if apps:
        return apps[-1].lifespan  # type: ignore[no-any-return]
    lifespan = getattr(instance, "lifespan", None)
    if callable(lifespan) and hasattr(instance, "router"):
        return lifespan  # type: ignore[no-any-return]
    raise TypeError(
        f"{instance!r}: pass a ChiaTool's mcp after building its http_app(), or the app "
        "returned by http_app()"
    )


def make_router_lifespan(
    mcp_instances: Sequence[Any],
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan which runs all MCP session managers concurrently.

    Useful when several MCP ASGI apps are mounted under one ingress app (``/gem5``,
    ``/chia``...): the ingress does not run a mounted app's lifespan, and a streamable
    HTTP app without its session manager running rejects every request. Mount outside;
    this only manages the session managers' lifetimes.

    Args:
        mcp_instances: ChiaTool ``mcp`` servers whose ``http_app()`` was mounted (the last
            app built for each is used), or the apps ``http_app()`` returned.

    Returns:
        A lifespan callable for the ingress (``Starlette(lifespan=...)``).

    Raises:
        TypeError: For an instance whose mounted app cannot be found.
    """
    lifespans = [_lifespan_of(instance) for instance in mcp_instances]

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for each in lifespans:
                await stack.enter_async_context(each(app))
            yield

    return lifespan
