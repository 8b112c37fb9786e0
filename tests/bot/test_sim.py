"""The simulator's pure parts: scripts and the transcript (the client runs in tests/e2e)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.sim.client import ApiCall, is_group_send
from bot.sim.script import Script, load_script
from bot.sim.transcript import Transcript, render_message


def test_builtin_and_file_scripts(tmp_path: Path) -> None:
    assert any(step.say == "帮助" for step in load_script("help").steps)
    as_json = tmp_path / "s.json"
    as_json.write_text(json.dumps([{"group": 1, "user": 2, "text": "你好"}, {"wait": 0.1}]))
    assert load_script(str(as_json)).steps[0].say == "你好"
    as_py = tmp_path / "s.py"
    as_py.write_text('SCRIPT = {"self_id": 5, "steps": [{"private": 2, "say": "今日"}]}')
    assert load_script(str(as_py)).self_id == 5


@pytest.mark.parametrize(
    "step",
    [
        {"group": 1, "say": "no user"},
        {"group": 1, "user": 2},
        {"wait": 1, "repeat": True},
        {"sing": 1},
    ],
)
def test_bad_steps_are_refused(step: dict) -> None:
    with pytest.raises(ValidationError):
        Script.model_validate({"steps": [step]})


def test_unknown_script_name() -> None:
    with pytest.raises(ValueError, match="builtins: help"):
        load_script("no-such-script")


def test_transcript_shows_who_said_what_where() -> None:
    transcript = Transcript(bot_name="助手", echo=None)
    transcript.said_in_group(123, 20001, "张三", "帮助")
    ok = {"status": "ok", "data": {"message_id": 1}}
    message = [
        {"type": "at", "data": {"qq": "20001"}},
        {"type": "text", "data": {"text": " 你好\n第二行"}},
    ]
    transcript.api_call(ApiCall("send_group_msg", {"group_id": 123, "message": message}, 1, 0, ok))
    transcript.api_call(
        ApiCall(
            "send_msg", {"message_type": "private", "user_id": 20001, "message": "hi"}, 2, 0, ok
        )
    )
    nodes = [{"type": "node", "data": {"content": [{"type": "text", "data": {"text": "一"}}]}}]
    transcript.api_call(
        ApiCall("send_group_forward_msg", {"group_id": 123, "messages": nodes}, 3, 0, ok)
    )
    assert transcript.lines == [
        "[group 123] 张三(20001): 帮助",
        "[group 123] 🤖 助手: @20001 你好\n    第二行",
        "[DM → 20001 张三] 🤖 助手: hi",
        "[group 123] 🤖 助手: [forward]\n    › 一",
    ]


def test_group_send_detection() -> None:
    assert is_group_send(ApiCall("send_msg", {"message_type": "group", "group_id": 5}, 0, 0), 5)
    assert not is_group_send(ApiCall("send_msg", {"message_type": "private", "user_id": 5}, 0, 0))
    assert not is_group_send(ApiCall("send_group_msg", {"group_id": 6}, 0, 0), 5)
    assert render_message("[CQ:face,id=1]") == "[CQ:face,id=1]"
