"""A big slice's terminal: aggregate progress lines instead of one line per agent.

Every host process prints landmark lines ``[site rankN] agent: text``. For a handful of
agents they are the clearest log there is; for hundreds they bury everything else (1,000
lines to stop 500 agents). Above :data:`AGGREGATE_ABOVE` agents, the launcher gives each
line to :class:`SiteProgress`: routine per-agent lines go only to ``logs/``, and the
terminal gets ``[aurora] running 312/500`` as the counts move (at most once a second) and
``[aurora] finished 500/500: 498 completed, 2 failed: east-017, west-230`` at the end.
Lines about trouble (a failure, an undelivered message, an exchange lost) still show.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence

__all__ = ["AGGREGATE_ABOVE", "SiteProgress"]

AGGREGATE_ABOVE = 8
"""A slice with more agents than this prints aggregate progress lines."""

_LANDMARK = re.compile(r"^\[(?P<site>[^\]\s]+) rank\d+\] (?P<agent>[^:\s]+): (?P<text>.*)$")
_FINISHED = re.compile(r"^(?:already )?finished \((?P<reason>[a-z_]+)")
_TROUBLE = ("failed", "undelivered", "lost", "gave up", "error", "diverged", "signal")


class SiteProgress:
    """Folds the per-agent landmark lines of one site into progress lines.

    Args:
        site: The site's name.
        agents: The slice's agents.
        say: Prints one line to the terminal.
        interval_s: The least time between two progress lines while counts move.
        clock: Monotonic seconds (a parameter for tests).
    """

    def __init__(
        self,
        site: str,
        agents: Sequence[str],
        say: Callable[[str], None],
        *,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.site = site
        self._agents = set(agents)
        self._say = say
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._ended: dict[str, str] = {}  # agent -> finish reason, or "failed"
        self._shown = ""
        self._last_said = float("-inf")
        self._done = False
        self._shown = self._summary()  # "running 0/N" is not news

    def intro(self, log_dir: str) -> None:
        """Say once where the per-agent lines go."""
        self._say(
            f"[{self.site}] {len(self._agents)} agents: per-agent lines go to {log_dir}/, "
            "progress here"
        )

    def line(self, text: str) -> bool:
        """Take one output line; return True if it belongs only in the log."""
        match = _LANDMARK.match(text.rstrip("\n"))
        if match is None or match["agent"] not in self._agents:
            return False
        agent, said = match["agent"], match["text"]
        with self._lock:
            finished = _FINISHED.match(said)
            if finished:
                self._ended[agent] = finished["reason"]
            elif said.startswith("failed"):
                self._ended[agent] = "failed"
            elif said == "stopped by signal":
                self._ended[agent] = "stopped"
            elif said == "running":
                self._running.add(agent)
            self._update(force=False)
        return not any(word in said for word in _TROUBLE)

    def tick(self, *, last: bool = False) -> None:
        """Print the counts if they moved and a line is due (``last``: due now)."""
        with self._lock:
            self._update(force=last)

    def _summary(self) -> str:
        total = len(self._agents)
        if len(self._ended) == total:
            reasons = Counter(reason for reason in self._ended.values() if reason != "failed")
            parts = [f"{count} {reason}" for reason, count in sorted(reasons.items())]
            failed = sorted(agent for agent, reason in self._ended.items() if reason == "failed")
            if failed:
                shown = ", ".join(failed[:10]) + (
                    f" and {len(failed) - 10} more" if failed[10:] else ""
                )
                parts.append(f"{len(failed)} failed: {shown}")
            return f"[{self.site}] finished {total}/{total}: " + ", ".join(parts)
        running = len(self._running - set(self._ended))
        line = f"[{self.site}] running {running}/{total}"
        return line + (f", finished {len(self._ended)}/{total}" if self._ended else "")

    def _update(self, *, force: bool) -> None:
        if self._done:
            return
        summary = self._summary()
        if summary == self._shown:
            return
        final = len(self._ended) == len(self._agents)
        now = self._clock()
        if final or force or now - self._last_said >= self._interval_s:
            self._say(summary)
            self._shown, self._last_said, self._done = summary, now, final
