from __future__ import annotations

import pytest

from chia.site.rank import detect_rank


@pytest.mark.parametrize(
    "env",
    [
        {"PMI_RANK": "3"},
        {"PMIX_RANK": "3"},
        {"OMPI_COMM_WORLD_RANK": "3"},
        {"PALS_RANKID": "3"},
        {"SLURM_PROCID": "3"},
    ],
)
def test_rank_from_each_launcher(env):
    assert detect_rank(env) == 3


def test_first_variable_wins_and_garbage_is_ignored():
    assert detect_rank({"PMI_RANK": "x", "PMIX_RANK": "1", "SLURM_PROCID": "5"}) == 1


def test_plain_process_is_rank_zero():
    assert detect_rank({}) == 0
