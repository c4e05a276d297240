"""chia: federated campaigns of cooperating LLM agents and Python tasks across HPC sites."""

__version__ = "0.1.0"

__all__ = ["__version__"]
