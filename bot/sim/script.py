"""Scripted scenarios for the simulator: a JSON file, a Python file or a builtin name.

A script is a list of steps, or {"self_id": ..., "groups": {id: name}, "steps": [...]}.
Steps (one key decides the kind):

    {"group": 123456, "user": 10001, "nickname": "张三", "role": "member", "say": "帮助"}
    {"private": 10001, "nickname": "张三", "say": "今日"}
    {"wait": 1.5}                                   seconds
    {"repeat": true}                                deliver the previous message again
    {"expect": "send_group_msg", "timeout": 10}     fail unless the bot makes this call
                                                    (or a list: any of these actions)

"message_id" may be given on a message step (the bot remembers it for
DEDUPE_TTL_SECONDS, so rerunning such a script against the same bot is ignored
as a duplicate). A Python script defines SCRIPT.
"""

from __future__ import annotations

import asyncio
import json
import runpy
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from bot.sim.client import OneBotClient
from bot.sim.transcript import Transcript


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    group: int | None = None
    private: int | None = None
    user: int | None = None
    nickname: str | None = None
    role: Literal["owner", "admin", "member"] | None = None
    say: str | None = Field(default=None, alias="text")
    message_id: int | None = None
    wait: float | None = Field(default=None, ge=0, le=600)
    repeat: bool = False
    expect: str | list[str] | None = None  # an action, or any of several
    timeout: float = Field(default=10.0, gt=0, le=600)

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [self.group is not None, self.private is not None, self.wait is not None,
                 self.repeat, self.expect is not None]  # fmt: skip
        if sum(kinds) != 1:
            raise ValueError("a step has exactly one of: group, private, wait, repeat, expect")
        if self.group is not None and self.user is None:
            raise ValueError("a group message needs a user")
        if (self.group is not None or self.private is not None) and self.say is None:
            raise ValueError("a message step needs say")
        return self


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")

    self_id: int = 10000
    groups: dict[int, str] = Field(default_factory=dict)
    steps: list[Step]


BUILTIN: dict[str, Any] = {
    "help": {
        "groups": {123456: "Model Y 车主群"},
        "steps": [
            {"group": 123456, "user": 20001, "nickname": "张三", "say": "大家周末去哪儿玩？"},
            {"group": 123456, "user": 20002, "nickname": "李四", "say": "推荐一下机油，该保养了"},
            {"wait": 0.5},
            {"group": 123456, "user": 20003, "nickname": "王五", "role": "admin", "say": "帮助"},
            {"expect": ["send_group_msg", "send_msg", "send_group_forward_msg"], "timeout": 10},
            {"private": 20001, "nickname": "张三", "say": "/帮助"},
            {"expect": ["send_private_msg", "send_msg"], "timeout": 10},
        ],
    },
    # The lead desk: needs consultant QQ 10001 on the bot's roster (see the README).
    "desk": {
        "groups": {123456: "Model Y 车主群"},
        "steps": [
            {"group": 123456, "user": 20011, "nickname": "小王", "say": "这车落地多少钱？"},
            {"wait": 3},  # the consultant's DM goes out through the outbox within a second or two
            {"private": 10001, "nickname": "王顾问", "say": "今日"},
            {"expect": "send_msg", "timeout": 10},  # the answer to 今日
            # the outbox DM: 新线索 (撞单 when the script is run again)
            {"expect": "send_private_msg", "timeout": 10},
        ],
    },
    # The owner group: check-ins, an event with a waitlist, a referral, the stats.
    # Needs manager QQ 90002 (and a consultant) on the bot's roster (see the README).
    "community": {
        "groups": {123456: "Model Y 车主群"},
        "steps": [
            {"group": 123456, "user": 20001, "nickname": "老张", "say": "签到"},
            {"expect": "send_group_msg"},
            {"group": 123456, "user": 20002, "nickname": "小李", "say": "签到"},
            {"expect": "send_group_msg"},
            {"group": 123456, "user": 20001, "nickname": "老张", "say": "积分榜"},
            {"expect": "send_group_msg"},
            {"group": 123456, "user": 90002, "nickname": "张经理", "say": "设置话题 冬季用车心得"},
            {"expect": "send_group_msg"},
            {"wait": 2},  # the topic itself goes out through the outbox and the send queue
            {
                "group": 123456,
                "user": 90002,
                "nickname": "张经理",
                "say": "发起活动 试驾会 下周六上午10点 店里 1人",
            },
            {"expect": "send_group_msg"},
            {"group": 123456, "user": 20001, "nickname": "老张", "say": "活动"},
            {"expect": "send_group_msg"},
            {"wait": 1},
            {"group": 123456, "user": 20002, "nickname": "小李", "say": "推荐码"},
            {"expect": "send_group_msg"},
            {"wait": 1},
            {
                "group": 123456,
                "user": 20001,
                "nickname": "老张",
                "say": "推荐 张三 13812345678 途观L",
            },
            {"expect": "send_group_msg"},  # the phone masked; the consultant gets a DM
            {"wait": 2},
            {"group": 123456, "user": 90002, "nickname": "张经理", "say": "群统计"},
            {"expect": "send_group_msg"},
        ],
    },
}


def load_script(spec: str) -> Script:
    """A builtin name, a .json file or a .py file defining SCRIPT."""
    if spec in BUILTIN:
        data = BUILTIN[spec]
    else:
        path = Path(spec)
        if not path.is_file():
            raise ValueError(
                f"no builtin script or file named {spec!r} (builtins: {', '.join(BUILTIN)})"
            )
        if path.suffix == ".py":
            data = runpy.run_path(str(path)).get("SCRIPT")
            if data is None:
                raise ValueError(f"{path} defines no SCRIPT")
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        data = {"steps": data}
    return TypeAdapter(Script).validate_python(data)


async def play(
    client: OneBotClient, script: Script, transcript: Transcript, pace: float = 0.3
) -> int:
    """Run the steps; returns the number of failed expectations."""
    client.group_names.update(script.groups)
    failures = 0
    last: dict[str, Any] | None = None
    for step in script.steps:
        if step.wait is not None:
            await asyncio.sleep(step.wait)
            continue
        if step.expect is not None:
            try:
                await client.wait_for_call(step.expect, timeout=step.timeout)
            except TimeoutError as exc:
                failures += 1
                transcript.note(f"expected {step.expect}: {exc}")
            continue
        if step.repeat:
            if last is None:
                transcript.note("repeat: nothing to repeat yet")
                continue
            transcript.note(f"delivering message {last.get('message_id')} again")
            await client.send_event(last)
        elif step.group is not None and step.user is not None and step.say is not None:
            known = client.members.get((step.group, step.user))
            nickname = step.nickname or (known.nickname if known else f"用户{step.user}")
            transcript.said_in_group(step.group, step.user, nickname, step.say)
            await client.send_group_message(
                step.group, step.user, step.say,
                nickname=nickname, role=step.role, message_id=step.message_id,
            )  # fmt: skip
        elif step.private is not None and step.say is not None:
            nickname = step.nickname or transcript.names.get(step.private, f"用户{step.private}")
            transcript.said_in_private(step.private, nickname, step.say)
            await client.send_private_message(
                step.private, step.say, nickname=nickname, message_id=step.message_id
            )
        last = client.sent_events[-1] if client.sent_events else None
        await asyncio.sleep(pace)
    return failures
