"""Profiling and visualization for chia flows.

``chia.trace.profiler`` records each dispatch to JSONL while a collector runs;
``chia.trace.records`` reads those logs; ``graph``, ``chrome`` and ``table`` export them
(GraphViz, Chrome trace / Perfetto, per-function CSV); ``static_graph`` draws a flow
file's ``@ChiaFunction`` calls without running it. ``timeline`` reads a campaign run's
event files in causal order without holding them, and ``perfetto`` writes that run as a
Chrome / Perfetto trace (``chia trace export``, the dashboard's export button).
"""

__all__: list[str] = []
