"""Which rank this process is, under whichever launcher started it."""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["RANK_VARIABLES", "detect_rank"]

#: Rank variables set by MPICH/Hydra, PMIx, Open MPI, HPE PALS and Slurm, in that order.
RANK_VARIABLES = (
    "PMI_RANK",
    "PMIX_RANK",
    "OMPI_COMM_WORLD_RANK",
    "PALS_RANKID",
    "PALS_RANK",
    "SLURM_PROCID",
)


def detect_rank(env: Mapping[str, str] | None = None) -> int:
    """Return this process's rank from the launcher's variables, else from mpi4py.

    Returns 0 when neither says (a plain process is rank 0 of 1).
    """
    env = os.environ if env is None else env
    for name in RANK_VARIABLES:
        value = env.get(name)
        if value is not None and value.strip().isdigit():
            return int(value)
    try:  # pragma: no cover - only reached under an MPI launcher that sets none of the above
        from mpi4py import MPI

        return int(MPI.COMM_WORLD.Get_rank())
    except ImportError:
        return 0
