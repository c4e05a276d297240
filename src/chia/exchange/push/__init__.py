"""The push exchange: one WebSocket per client, messages pushed as they arrive.

Public API:

* :class:`~chia.exchange.push.client.PushExchangeFactory` (Academy factory),
  :class:`~chia.exchange.push.client.PushTransport` (its transport, with
  ``register_agent_as`` for a preset uid), ``PushExchangeError``.
* :func:`~chia.exchange.push.server.serve_push` (``chia exchange serve --transport push``)
  and :class:`~chia.exchange.push.process.PushServer` (the same in a managed child).
* :mod:`~chia.exchange.push.protocol`: the frames (``PROTOCOL_VERSION``, ``PATH``...);
  :mod:`~chia.exchange.push.connection` (private): one client socket.

See docs/exchanges.md. Importing this package imports neither aiohttp nor Academy.
"""

from __future__ import annotations

__all__: list[str] = []
