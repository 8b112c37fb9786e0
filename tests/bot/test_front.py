"""bot.front's per-event memo: a result several places need is computed once per event."""

from __future__ import annotations

import contextvars

from bot import front


def _in_fresh_context() -> None:
    computed: list[str] = []

    def compute() -> str:
        computed.append("x")
        return "value"

    front.start_event()
    assert front.memo(("k", "text"), compute) == "value"
    assert front.memo(("k", "text"), compute) == "value"
    assert computed == ["x"]  # once for this event
    assert front.memo(("k", "other text"), compute) == "value"
    assert computed == ["x", "x"]  # the key names what the value depends on
    front.start_event()  # the next event
    front.memo(("k", "text"), compute)
    assert computed == ["x", "x", "x"]


def test_memo_computes_once_per_event_and_key() -> None:
    # Its own context: the memo set here must not outlive the test.
    contextvars.copy_context().run(_in_fresh_context)
