"""The system profile: what chia needs to know about one HPC machine or cloud node."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chia.names import NAME_PATTERN

__all__ = ["PROXY_VARIABLES", "ExchangeDefaults", "LauncherSettings", "SystemProfile"]

#: Proxy variables forwarded explicitly to ranks when the exchange needs the internet.
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LauncherSettings(_Strict):
    """How a site starts one host process per agent."""

    kind: Literal["mpiexec", "ray", "local"] = "local"
    command: str = Field("mpiexec", description="The MPI launcher executable (mpiexec kind).")
    flags: list[str] = Field(default_factory=list, description="Extra launcher flags.")
    ppn: int | None = Field(None, gt=0, description="Ranks per node (mpiexec -ppn).")


class ExchangeDefaults(_Strict):
    """The exchange a site uses unless the command line says otherwise."""

    # The exchange layer's ExchangeKind (profiles sit below it): every kind but globus,
    # whose project address has no default to keep here.
    kind: Literal["http", "redis", "redis-fast", "local", "hybrid", "push"] = "http"
    url: str | None = Field(
        None, description="HTTP exchange URL or ws://host:port (push); None = the flag."
    )
    redis_host: str = "127.0.0.1"
    redis_port: int = Field(6379, gt=0, lt=65536)


class SystemProfile(_Strict):
    """One machine's settings, read from ``profiles/<name>.json``."""

    schema_ref: str | None = Field(None, alias="$schema", description="Editor schema hint.")
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    remote_host: str | None = Field(None, description="ssh destination, e.g. user@host.")
    remote_root: str | None = Field(
        None, description="Working directory of the site's processes on the machine."
    )
    run_root: str = Field("runs", description="Where run directories are written.")
    python: str = "python3"
    venv: str | None = Field(
        None, description="The site's venv: its bin/python runs every site process."
    )
    launcher: LauncherSettings = Field(default_factory=LauncherSettings)
    env: dict[str, str] = Field(default_factory=dict)
    unset_env: list[str] = Field(default_factory=list)
    path_entries: list[str] = Field(default_factory=list)
    no_proxy: list[str] = Field(default_factory=list)
    relay_host_file: str | None = None
    relay_port: int | None = Field(None, gt=0, lt=65536)
    exchange: ExchangeDefaults = Field(default_factory=ExchangeDefaults)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
