"""A user-side exchange session: an Academy user client inside the JSON-only context.

Bootstrap, the spawn-site wait for peers and the benchmarks talk to agents as *users*.
Academy handles only work inside a context that names an exchange client (a Manager, a
Runtime, or ``async with client``), and replies only reach a client whose listener is
running; :func:`user_client` gives both, plus :func:`~chia.exchange.serialization.json_only`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from chia.exchange.serialization import json_only

if TYPE_CHECKING:
    from academy.exchange import ExchangeFactory, UserExchangeClient

__all__ = ["user_client"]


@contextlib.asynccontextmanager
async def user_client(
    factory: ExchangeFactory[Any], *, name: str | None = None
) -> AsyncIterator[UserExchangeClient[Any]]:
    """Open a listening user client; requests in the block are JSON, pickle refused.

    The client's own (user) mailbox is terminated on exit, as Academy does for users;
    agent mailboxes are never touched.

    Args:
        factory: From :func:`chia.exchange.settings.open_factory`.
        name: Display name of the user on the exchange (e.g. ``"bootstrap"``).

    Yields:
        The open client; handles created in the block use it.
    """
    client = await factory.create_user_client(name=name, start_listener=True)
    with json_only():
        async with client:
            yield client
