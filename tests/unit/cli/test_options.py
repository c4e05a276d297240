"""The CLI's shared choices are the library's own: every kind it knows, and nothing else."""

from __future__ import annotations

from typing import get_args

from chia.cli._options import ExchangeChoice, FsyncChoice, LauncherChoice
from chia.events.durability import FsyncMode
from chia.exchange.settings import ExchangeKind
from chia.site.launch import LauncherKind


def test_cli_choices_match_the_literal_types():
    assert {c.value for c in ExchangeChoice} == set(get_args(ExchangeKind))
    assert {c.value for c in LauncherChoice} == set(get_args(LauncherKind))
    assert {c.value for c in FsyncChoice} == set(get_args(FsyncMode))
