"""Which exchange a run uses, and the one place that builds Academy exchange factories.

An :class:`ExchangeSettings` is plain data (it may be written to ``launch.json``): it never
holds a secret. The shared token of a self-hosted HTTP exchange and a Redis password are
read from the environment when :func:`open_factory` runs.

Kinds:

* ``http``: Academy's HTTP exchange, self-hosted by ``chia exchange serve`` (see
  :mod:`chia.exchange.server`; the shared token) or hosted by Academy
  (:data:`HOSTED_EXCHANGE_URL`, or any server with ``auth="globus"``: Academy's Globus
  login, see :mod:`chia.exchange.globus_login`).
* ``globus``: Academy's Globus exchange (``url`` is ``globus://<project-uuid>``), with
  the same Globus login.
* ``redis``: Academy's Redis exchange. Its keys are unprefixed (``active:<uid>``,
  ``queue:<uid>``...), so runs sharing one redis-server are isolated by ``redis_db``.
* ``redis-fast``: chia's transport straight over Redis (:mod:`chia.exchange.redis_fast`:
  one Lua script per mailbox operation, blocking moves instead of polling), its keys
  under ``chia:rf:<namespace>``; :meth:`ExchangeSettings.for_run` makes the namespace
  the run id.
* ``hybrid``: Academy's hybrid exchange (direct TCP between peers, Redis for state and
  offline queues). Isolated by ``namespace`` (a key prefix) and ``redis_db``.
* ``push``: chia's push exchange (``chia exchange serve --transport push``): one
  WebSocket per client, messages pushed as they arrive (:mod:`chia.exchange.push`).
* ``local``: in-process only. Every agent and client of a run must share the *same*
  factory object, so call :func:`open_factory` once per process and pass the factory on.

Redis clients are built for redis-py 7 with ``socket_timeout=None`` (an idle agent's
blocking pop must never time out) and a large ``max_connections`` (one connection is held
per blocked call; a small pool raises MaxConnectionsError at ~100 calls in flight).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chia.errors import ChiaUsageError
from chia.exchange.redis_client import REDIS_PASSWORD_ENV, redis_connection_kwargs
from chia.exchange.token import TOKEN_ENV, http_headers

if TYPE_CHECKING:
    from academy.exchange import ExchangeFactory

    from chia.exchange.resilience import Backoff

__all__ = [
    "GLOBUS_SCHEME",
    "HOSTED_EXCHANGE_URL",
    "REDIS_KINDS",
    "REDIS_PASSWORD_ENV",
    "TOKEN_ENV",
    "ExchangeAuth",
    "ExchangeKind",
    "ExchangeSettings",
    "check_credentials",
    "open_factory",
]

ExchangeKind = Literal["http", "redis", "redis-fast", "local", "hybrid", "push", "globus"]
#: Kinds addressed as ``redis://host:port/db``.
REDIS_KINDS: tuple[ExchangeKind, ...] = ("redis", "redis-fast", "hybrid")
#: How an HTTP exchange client proves who it is.
ExchangeAuth = Literal["token", "globus"]

#: Academy's hosted exchange; it needs a Globus login (``chia exchange login``).
HOSTED_EXCHANGE_URL = "https://exchange.academy-agents.org/v1"
#: Scheme of a Globus exchange address: ``globus://<project-uuid>``.
GLOBUS_SCHEME = "globus"


class ExchangeSettings(BaseModel):
    """How to reach the message exchange of one run. Holds no secrets.

    Attributes:
        kind: Which Academy exchange to use.
        url: Base URL of the HTTP exchange (``kind="http"``) or ``ws://host:port`` of the
            push exchange (``kind="push"``; ``wss://`` with TLS; several servers over
            one Redis comma-separated), as printed by ``chia exchange serve``; for
            ``kind="globus"``, ``globus://<project-uuid>``.
        auth: How an ``http`` client authenticates: ``token`` (the shared token of
            ``chia exchange serve``, if set) or ``globus`` (the cached Globus login;
            always so for :data:`HOSTED_EXCHANGE_URL`).
        redis_host: Redis server host (``redis``, ``redis-fast`` and ``hybrid``).
        redis_port: Redis server port.
        redis_db: Redis database number; the isolation unit of the ``redis`` kind.
        namespace: Key prefix of the ``hybrid`` and ``redis-fast`` kinds (ignored by
            ``redis``, whose keys Academy does not prefix).
        redis_max_connections: Size of each Redis client's connection pool.
        hybrid_interface: Network interface the hybrid exchange's direct-TCP server binds
            to (``None``: the address of the host name; ``"lo"`` for single-host tests).
        http_request_timeout_s: Longest server-side wait of one HTTP listen request.
        http_retries: Retries of transient HTTP errors.
        heartbeat_interval_s: Academy heartbeat period of every client.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ExchangeKind
    url: str | None = None
    auth: ExchangeAuth = "token"
    redis_host: str = "127.0.0.1"
    redis_port: int = Field(default=6379, ge=1, le=65535)
    redis_db: int = Field(default=0, ge=0)
    namespace: str = Field(default="chia", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    redis_max_connections: int = Field(default=10_000, ge=16)
    hybrid_interface: str | None = None
    http_request_timeout_s: float = Field(default=60.0, gt=0)
    http_retries: int = Field(default=1, ge=0)
    heartbeat_interval_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _hosted_is_globus(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") == "http":
            url = str(data.get("url") or "").rstrip("/")
            if url == HOSTED_EXCHANGE_URL:
                return {**data, "auth": "globus"}
        return data

    @model_validator(mode="after")
    def _check_url(self) -> ExchangeSettings:
        if self.auth == "globus" and self.kind != "http":
            raise ValueError("auth='globus' is for the http kind (the globus kind always is)")
        if self.kind == "globus":
            project_id(self)
        if self.kind == "http":
            if not self.url:
                raise ValueError("the http exchange needs a url (e.g. from `chia exchange serve`)")
            parsed = urlparse(self.url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ValueError(f"exchange url {self.url!r} is not an http(s) URL")
        if self.kind == "push":
            if not self.url:
                raise ValueError(
                    "the push exchange needs a url (from `chia exchange serve --transport push`)"
                )
            # Several servers over one Redis may be listed, comma-separated.
            for part in self.url.split(","):
                parsed = urlparse(part.strip())
                if parsed.scheme not in ("ws", "wss") or not parsed.netloc:
                    raise ValueError(f"exchange url {self.url!r} is not a ws:// URL")
        return self

    @property
    def globus_project(self) -> uuid.UUID:
        """The project id of a ``globus`` exchange (from ``globus://<project-uuid>``)."""
        return project_id(self)

    def for_run(self, run_id: str) -> ExchangeSettings:
        """These settings for run ``run_id``: a redis-fast exchange's keys go under it.

        Every process of a run (sites, their ranks, bootstrap) resolves its settings
        through this, so they all meet under the same keys; other kinds are unchanged
        (their mailboxes are per run already: uids derive from the run id).
        """
        if self.kind != "redis-fast":
            return self
        return self.model_copy(update={"namespace": run_id})

    @classmethod
    def from_redis_url(
        cls, kind: Literal["redis", "redis-fast", "hybrid"], url: str
    ) -> ExchangeSettings:
        """Build settings from ``redis://host:port/db`` (the password, if any, is ignored).

        Args:
            kind: ``"redis"``, ``"redis-fast"`` or ``"hybrid"``.
            url: A Redis URL; the path selects the database number (default 0).

        Raises:
            ChiaUsageError: If ``url`` is not a ``redis://`` URL.
        """
        host, port, db = parse_redis_url(url)
        return cls(kind=kind, redis_host=host, redis_port=port, redis_db=db)


def parse_redis_url(url: str) -> tuple[str, int, int]:
    """Split ``redis://host:port/db`` into host, port and database number.

    Raises:
        ChiaUsageError: If ``url`` is not a usable ``redis://`` URL.
    """
    parsed = urlparse(url)
    try:
        if parsed.scheme != "redis" or not parsed.hostname:
            raise ValueError
        db = int(parsed.path.strip("/") or 0)
        return parsed.hostname, parsed.port or 6379, db
    except ValueError:
        raise ChiaUsageError(f"bad redis url {url!r}: expected redis://host:port/db") from None


def redis_client_kwargs(settings: ExchangeSettings) -> dict[str, Any]:
    """Keyword arguments for every ``redis.asyncio.Redis`` an exchange client opens.

    See :func:`redis_connection_kwargs`.
    """
    return redis_connection_kwargs(settings.redis_db, settings.redis_max_connections)


def open_factory(
    settings: ExchangeSettings,
    *,
    on_lost: Callable[[str], None] | None = None,
    on_restored: Callable[[float], None] | None = None,
    backoff: Backoff | None = None,
) -> ExchangeFactory[Any]:
    """Build the Academy exchange factory described by ``settings``.

    Creating a factory opens no connection: clients do, when a factory mints them
    (``await factory.create_user_client()``, or an Academy ``Runtime``/``Manager``).

    Every kind but ``local`` comes wrapped in a
    :class:`~chia.exchange.resilience.ResilientFactory`: when the exchange goes away
    (redis-server or ``chia exchange serve`` restarted), its clients retry with backoff
    until it is back instead of failing; see :mod:`chia.exchange.resilience`.

    Args:
        settings: Which exchange to reach and how.
        on_lost: Called with the error text when the exchange stops answering (more
            subscribers: :func:`chia.exchange.health.watch_exchange`).
        on_restored: Called with the seconds it was down when it answers again.
        backoff: Retry timing and deadlines (default: 0.2 s doubling to 5 s, 10 min).

    Returns:
        An Academy ``ExchangeFactory``. For ``local`` it is a fresh in-process exchange:
        share the returned object between every client of the run.

    Raises:
        ChiaUsageError: For a Globus-authenticated exchange (the hosted one, or the
            ``globus`` kind) when no Globus login is cached: the message names
            ``chia exchange login``. Nothing ever prompts.
    """
    from chia.exchange.resilience import ResilientFactory

    inner, where = _open_inner(settings)
    if settings.kind == "local":
        return inner
    factory = ResilientFactory(inner, where, backoff)
    if on_lost is not None or on_restored is not None:
        factory.health.subscribe(on_lost, on_restored)
    return factory


def _open_inner(settings: ExchangeSettings) -> tuple[ExchangeFactory[Any], str]:
    """The plain Academy factory of ``settings`` and a short description of where it is."""
    from academy.exchange import (
        HttpExchangeFactory,
        HybridExchangeFactory,
        LocalExchangeFactory,
        RedisExchangeFactory,
    )
    from academy.exchange.client_config import ExchangeClientConfig

    from chia.exchange.health import quiet_academy_retries

    config = ExchangeClientConfig(heartbeat_interval=settings.heartbeat_interval_s)
    redis_at = f"redis {settings.redis_host}:{settings.redis_port}/{settings.redis_db}"
    if settings.kind == "local":
        return LocalExchangeFactory(config=config), "local"
    if settings.kind == "redis":
        factory = RedisExchangeFactory(
            settings.redis_host,
            settings.redis_port,
            config=config,
            **redis_client_kwargs(settings),
        )
        return factory, redis_at
    if settings.kind == "redis-fast":
        from chia.exchange.redis_fast import RedisFastExchangeFactory

        fast = RedisFastExchangeFactory(
            settings.redis_host,
            settings.redis_port,
            settings.redis_db,
            namespace=settings.namespace,
            config=config,
            max_connections=settings.redis_max_connections,
        )
        return fast, f"redis-fast over {redis_at} ({fast.prefix})"
    if settings.kind == "hybrid":
        hybrid = HybridExchangeFactory(
            settings.redis_host,
            settings.redis_port,
            redis_kwargs=redis_client_kwargs(settings),
            interface=settings.hybrid_interface,
            namespace=settings.namespace,
            config=config,
        )
        return hybrid, f"hybrid over {redis_at}"
    if settings.kind == "push":
        from chia.exchange.push.client import PushExchangeFactory

        assert settings.url is not None  # checked by the model
        return PushExchangeFactory(settings.url, config=config), settings.url
    if settings.kind == "globus":
        from academy.exchange.cloud.globus import GlobusExchangeFactory

        check_credentials(settings)  # fail now, naming `chia exchange login`; never prompt
        project = settings.globus_project
        return GlobusExchangeFactory(project, config=config), f"globus project {project}"
    assert settings.url is not None  # checked by the model
    url = settings.url.rstrip("/")
    headers = http_headers()
    if settings.auth == "globus":
        from chia.exchange.globus_login import cached_auth_header

        headers = cached_auth_header()
    quiet_academy_retries()
    http = HttpExchangeFactory(
        url,
        # With a header given, Academy does not log in itself; "globus" lets it fetch a
        # fresh header (from the cached refresh token) when the exchange answers 401.
        auth_method="globus" if settings.auth == "globus" else None,
        additional_headers=headers,
        request_timeout_s=settings.http_request_timeout_s,
        retries=settings.http_retries,
        config=config,
    )
    return http, url


def check_credentials(settings: ExchangeSettings) -> None:
    """Fail fast if ``settings`` needs a Globus login and none is cached (never prompts).

    Raises:
        ChiaUsageError: Naming ``chia exchange login``.
    """
    if settings.kind == "globus" or settings.auth == "globus":
        from chia.exchange.globus_login import cached_auth_header

        cached_auth_header()


def project_id(settings: ExchangeSettings) -> uuid.UUID:
    """Parse the project id out of a ``globus://<project-uuid>`` exchange address.

    Raises:
        ValueError: If the address is missing or not of that form.
    """
    example = f"{GLOBUS_SCHEME}://<project-uuid>"
    if not settings.url:
        raise ValueError(f"the globus exchange needs a url: {example}")
    parsed = urlparse(settings.url)
    if parsed.scheme != GLOBUS_SCHEME:
        raise ValueError(f"exchange url {settings.url!r} is not {example}")
    try:
        return uuid.UUID(parsed.netloc)
    except ValueError:
        raise ValueError(
            f"exchange url {settings.url!r}: {parsed.netloc!r} is not a project uuid"
        ) from None
