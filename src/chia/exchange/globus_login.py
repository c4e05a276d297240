"""Academy's own Globus login, for the hosted exchange and Academy's Globus exchange.

The hosted Academy exchange (``https://exchange.academy-agents.org/v1``) and Academy's
Globus exchange accept only Globus bearer tokens. chia uses Academy's own login: the same
Globus client id, scopes and token file (``$ACADEMY_HOME/storage.db``, default
``~/.local/share/academy``), so a login made with Academy's tools works here and the
other way round.

Logging in is interactive (a URL to open, a code to paste) and happens once per machine,
in a terminal: :func:`interactive_login` (``chia exchange login``). Everything else only
*reads* the cached login, through an app whose login flow refuses instead of prompting
(:func:`cached_auth_header`): a rank under ``mpiexec`` or a Ray actor never waits on a
prompt nobody sees; it fails at once with a message naming ``chia exchange login``.
A client identity (``ACADEMY_GLOBUS_CLIENT_ID`` and ``ACADEMY_GLOBUS_CLIENT_SECRET`` set)
needs no login at all: Academy's client app gets its tokens by itself.

Reading the cached login makes no network call while the access token is valid; an
expired one is refreshed with the cached refresh token (a call to Globus Auth).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chia.errors import ChiaUsageError

if TYPE_CHECKING:
    from globus_sdk import GlobusApp
    from globus_sdk.globus_app.protocols import LoginFlowManagerProvider

__all__ = [
    "LOGIN_COMMAND",
    "LoginStatus",
    "cached_auth_header",
    "interactive_login",
    "login_status",
]

#: What a user runs, once per machine, to log in.
LOGIN_COMMAND = "chia exchange login"


def _refusing_flow_manager() -> LoginFlowManagerProvider:
    from globus_sdk.login_flows import CommandLineLoginFlowManager

    class RefuseLogin(CommandLineLoginFlowManager):
        """A login flow that never prompts: it says which command logs in."""

        def run_login_flow(self, auth_parameters: Any) -> Any:
            raise ChiaUsageError(_needs_login())

    return RefuseLogin


def _needs_login() -> str:
    from academy.home import get_academy_home

    return (
        "the Academy exchange needs a Globus login and none is cached in "
        f"{get_academy_home() / 'storage.db'}: run `{LOGIN_COMMAND}` once on this machine "
        "(in a terminal), or set ACADEMY_GLOBUS_CLIENT_ID and ACADEMY_GLOBUS_CLIENT_SECRET "
        "for a client identity"
    )


def _app(*, interactive: bool) -> GlobusApp:
    """Academy's Globus app with the exchange scope; non-interactive unless asked."""
    from academy.exchange.cloud.login import (
        ACADEMY_GLOBUS_CLIENT_ID,
        get_globus_app,
        get_token_storage,
        is_client_login,
    )
    from academy.exchange.cloud.scopes import AcademyExchangeScopes
    from globus_sdk.globus_app import GlobusAppConfig, UserApp

    if interactive or is_client_login():
        app = get_globus_app()
    else:
        config = GlobusAppConfig(
            login_flow_manager=_refusing_flow_manager(),
            token_storage=get_token_storage(),
            request_refresh_tokens=True,
        )
        app = UserApp(app_name="academy", client_id=ACADEMY_GLOBUS_CLIENT_ID, config=config)
    app.add_scope_requirements(
        {AcademyExchangeScopes.resource_server: [AcademyExchangeScopes.academy_exchange]}
    )
    return app


def cached_auth_header() -> dict[str, str]:
    """The ``Authorization`` header of the cached Globus login, never prompting.

    Returns:
        ``{"Authorization": "Bearer ..."}``.

    Raises:
        ChiaUsageError: If no usable login is cached (the message names
            ``chia exchange login``).
    """
    from academy.exchange.cloud.scopes import AcademyExchangeScopes

    app = _app(interactive=False)
    if app.login_required():
        raise ChiaUsageError(_needs_login())
    header = app.get_authorizer(AcademyExchangeScopes.resource_server).get_authorization_header()
    if not header:
        raise ChiaUsageError(_needs_login())
    return {"Authorization": header}


@dataclass(frozen=True)
class LoginStatus:
    """What is cached: whether a login is usable, and how the tokens are obtained.

    Attributes:
        logged_in: True if the exchange can be used without logging in.
        identity: ``client`` for a client identity from the environment, else ``user``.
        where: The token file.
    """

    logged_in: bool
    identity: str
    where: str


def login_status() -> LoginStatus:
    """Report the cached login without prompting or calling the network."""
    from academy.exchange.cloud.login import is_client_login
    from academy.home import get_academy_home

    where = str(get_academy_home() / "storage.db")
    if is_client_login():
        return LoginStatus(logged_in=True, identity="client", where=where)
    return LoginStatus(
        logged_in=not _app(interactive=False).login_required(), identity="user", where=where
    )


def interactive_login(*, force: bool = False) -> None:
    """Log in to Globus for the Academy exchange (Academy's own flow), once per machine.

    Args:
        force: Log in again even if a usable login is cached.

    Raises:
        ChiaUsageError: If standard input is not a terminal (a batch job or a rank):
            the flow prints a URL and reads a code, which only a person can do.
    """
    from academy.exchange.cloud.login import is_client_login

    if is_client_login():
        return  # a client identity fetches its own tokens when used
    if not force and login_status().logged_in:
        return
    if not sys.stdin.isatty():
        raise ChiaUsageError(
            f"`{LOGIN_COMMAND}` is interactive (it prints a URL and asks for the code you "
            "get there): run it in a terminal, on a login node or your laptop, before "
            "launching sites"
        )
    _app(interactive=True).login(force=force)
