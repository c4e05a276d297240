"""Profiling and visualization for chia flows.

``chia.trace.profiler`` records each dispatch to JSONL while a collector runs;
``chia.trace.records`` reads those logs; ``graph``, ``chrome`` and ``table`` export them
(GraphViz, Chrome trace / Perfetto, per-function CSV); ``static_graph`` draws a flow
file's ``@ChiaFunction`` calls without running it.
"""

__all__: list[str] = []
