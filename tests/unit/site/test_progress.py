from __future__ import annotations

from chia.site.progress import SiteProgress

AGENTS = [f"east-{i:03d}" for i in range(12)]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _board(clock: Clock) -> tuple[SiteProgress, list[str]]:
    said: list[str] = []
    return SiteProgress("east", AGENTS, said.append, interval_s=1.0, clock=clock), said


def test_routine_lines_go_to_the_log_and_counts_to_the_terminal():
    clock = Clock()
    board, said = _board(clock)
    for rank, agent in enumerate(AGENTS):
        assert board.line(f"[east rank{rank}] {agent}: registered on the push exchange (uid x)\n")
        assert board.line(f"[east rank{rank}] {agent}: running\n")
    assert said == ["[east] running 1/12"]  # throttled: one line per interval
    clock.now = 1.5
    board.tick()
    assert said[-1] == "[east] running 12/12"
    board.tick()
    assert len(said) == 2  # nothing moved: nothing said


def test_the_last_line_counts_reasons_and_names_the_failed():
    clock = Clock()
    board, said = _board(clock)
    for rank, agent in enumerate(AGENTS[:-2]):
        board.line(f"[east rank{rank}] {agent}: finished (completed, 4 decisions)")
    assert not board.line("[east rank10] east-010: failed: model said no")  # trouble shows
    board.line("[east rank11] east-011: already finished (max_decisions) in an earlier run")
    assert said[-1] == "[east] finished 12/12: 10 completed, 1 max_decisions, 1 failed: east-010"
    board.tick(last=True)
    assert said.count(said[-1]) == 1


def test_lines_that_are_not_this_slices_landmarks_are_echoed():
    board, said = _board(Clock())
    assert not board.line("[east] agent-x (rank 0) died: signal 9; restart 1/3")
    assert not board.line("[east rank0] stranger: running")
    assert not board.line("plain output of a tool")
    assert not board.line("[east rank3] east-003: exchange lost (ClientError); reconnecting")
    assert said == []
