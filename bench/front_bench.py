"""Command front micro-benchmark (issue #10): bot.front's CommandTable against
nonebot-plugin-alconna, and bot.platform.origin_of against nonebot-plugin-uninfo,
in one process, no network. Prints figures, asserts nothing.

    .venv/bin/python bench/front_bench.py [--events 2000] [--repeat 3] [--dispatch-events 300]

Needs nonebot-plugin-alconna and nonebot-plugin-uninfo installed in the venv
(they are not project dependencies): `pip install nonebot-plugin-alconna
nonebot-plugin-uninfo`.

The load: N OneBot v11 group message events from 40 groups x 60 owners, ~95%
plain chat (some with an image, a face, a quoted reply), ~5% commands with
arguments ("跟进 12 在比价", "报名 3 2人", "/帮助", "@bot 帮助", "活动 有什么优惠吗"
which is chat), built once per variant and round (events are mutated by the
adapter's at/reply handling).

What is timed, per event (process CPU time, best of --repeat rounds, µs):
  parse level (no NoneBot dispatch):
    (a) front     event.get_plaintext() + bot.front.parse_text (the 46 words)
    (b) alconna   UniMessage.of(event.get_message()) + Alconna.parse of each
                  word's command until one matches (what 46 on_alconna rules do)
    (b1) alconna  the same with one Alconna per plugin and shape (12), a regex
                  header naming its words
  dispatch level (bot.handle_event: the adapter's reply/at checks, NoneBot's
  preprocessors and matcher checks; a fake adapter answers get_msg in-process):
    (a) front     bot.prefilter + 6 CommandTables (the real plugins' words
                  and roles; handlers do nothing; roles are a constant)
    (b) alconna   46 on_alconna matchers (one per word, priority 10, block),
                  no pre-filter: the idiomatic use
    (b2) alconna  the same 46 matchers behind bot.prefilter (chat skips them)
  who/where:
    (c) origin_of bot.platform.origin_of(bot, event)
    (d) uninfo    nonebot_plugin_uninfo.get_session(bot, event), cold (each
                  (group, user) first seen: 2 API calls to the QQ client,
                  answered in-process here) and warm (its 300 s cache)

Figures on the shared 2-core machine (issue #10, 1000 events, dispatch on the
first 200, best of 3; nonebot-plugin-alconna 0.62.1, nonebot-plugin-uninfo 0.11.2):
  parse     front 2.0 µs; alconna 689 µs (46 commands), 176 µs (12)
  dispatch  front + prefilter 466 µs; alconna 33,680 µs (72x), behind the
            prefilter 3,821 µs (8.2x); no matcher at all 226 µs
  who       origin_of 1.9 µs; uninfo warm 1.9 µs, cold 24.5 µs + 2 QQ API calls
And bench/bot_breakdown.py --configs full,full-alconna: deskchat's 18 words
added as on_alconna matchers take the full bot from 2.62 to 5.38 ms CPU per
event (intent lines 12.4 -> 26.9 ms): one plugin on alconna halves throughput.
Decision: neither replaces bot.front / bot.platform (see the issue #10 note).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import nonebot  # noqa: E402

nonebot.init(driver="~none", command_start={"/", ""}, log_level="WARNING")

from nonebot.adapters.onebot.v11 import Adapter, Bot  # noqa: E402

nonebot.get_driver().register_adapter(Adapter)  # before uninfo: it maps the adapters it finds
from nonebot.adapters.onebot.v11.event import GroupMessageEvent  # noqa: E402
from nonebot.log import logger  # noqa: E402

nonebot.require("nonebot_plugin_alconna")
nonebot.require("nonebot_plugin_uninfo")

from arclet.alconna import Alconna, AllParam, Args, Arparma  # noqa: E402
from nonebot_plugin_alconna import on_alconna  # noqa: E402
from nonebot_plugin_alconna.uniseg import UniMessage  # noqa: E402
from nonebot_plugin_uninfo import get_session  # noqa: E402

from bot import front, prefilter  # noqa: E402
from bot.platform import origin_of  # noqa: E402

SELF_ID = 3_456_789_012

# The real plugins' words and roles (bot/plugins/*: their extra["commands"]).
PLUGINS: dict[str, list[tuple[str, str, bool]]] = {  # plugin -> (word, role, bare)
    "help": [("帮助", "member", False)],
    "activities": [("签到", "member", True), ("积分", "member", True), ("积分榜", "member", True),
                   ("话题", "member", True), ("设置话题", "manager", False),
                   ("话题计划", "manager", True), ("取消话题", "manager", False),
                   ("群统计", "manager", False)],
    "deskchat": [(w, "consultant", False) for w in
                 ("今日", "线索", "跟进", "邀约", "确认", "到店", "未到店", "下订", "成交", "战败",
                  "上班", "下班")]
                + [(w, "manager", False) for w in
                   ("线索统计", "审核", "分配", "添加顾问", "顾问列表", "待分配")],
    "referral": [("推荐", "member", False), ("推荐码", "member", True), ("我的推荐", "member", True),
                 ("推荐榜", "member", True), ("奖励台账", "manager", False)],
    "privacy": [("我的信息", "member", True), ("删除我的信息", "member", True),
                ("删除线索", "manager", False), ("确认删除", "member", True)],
    "events": [("发起活动", "manager", False), ("活动", "member", True), ("报名", "member", False),
               ("取消报名", "member", False), ("我的报名", "member", True),
               ("到场", "manager", False), ("关闭报名", "manager", False),
               ("取消活动", "manager", False), ("活动统计", "manager", False),
               ("导出报名", "manager", False)],
}  # fmt: skip
WORDS = [w for words in PLUGINS.values() for w, _, _ in words]

CHAT = [
    "早上好各位车友", "今天高速上好堵啊", "周末有人一起去自驾吗", "这车机又卡了一下", "车机升级了没",
    "刚跑完一趟长途，油耗还行", "下雨天记得开雾灯", "有人去过川西吗", "哈哈哈哈", "收到",
    "今天洗车了，明天就下雨", "地库太窄了倒车好难", "后排空间确实大", "我这台快一万公里了",
    "空调滤芯多久换一次", "胎压报警了怎么回事", "+1", "同意楼上", "晚上好", "谢谢群主",
    "冬天续航掉得厉害", "座椅通风真香", "有人装了行车记录仪吗", "明天车友会活动几点集合",
    "活动 有什么优惠吗", "到店 看了一眼新款，内饰还行", "成交 恭喜恭喜", "推荐一下机油",
]  # fmt: skip
COMMANDS = [
    "跟进 12 在比价", "报名 3 2人", "报名 3", "帮助", "/帮助", "帮助 今日", "签到", "积分榜",
    "线索 12", "邀约 12 周六上午10点", "战败 12 竞品 买了别家", "线索统计 本周", "活动",
    "取消报名 3", "推荐 王先生 13800138000 SUV", "我的推荐", "话题", "到场 3",
]  # fmt: skip


def group_event(rng: random.Random, mid: int, segs: list[dict[str, Any]]) -> dict[str, Any]:
    group = 700_000_001 + rng.randrange(40) * 37
    uid = 100_000_000 + (group % 1000) * 100 + rng.randrange(60)
    raw = "".join(s["data"]["text"] if s["type"] == "text" else f"[CQ:{s['type']}]" for s in segs)
    return {
        "time": int(time.time()), "self_id": SELF_ID, "post_type": "message",
        "message_type": "group", "sub_type": "normal", "message_id": mid, "group_id": group,
        "user_id": uid, "anonymous": None, "message": segs, "raw_message": raw, "font": 0,
        "sender": {"user_id": uid, "nickname": "老王", "card": "", "role": "member"},
    }  # fmt: skip


def plan(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        mid = 1_000_000 + i
        if rng.random() < 0.05:
            line = rng.choice(COMMANDS)
            if rng.random() < 0.15:
                segs = [{"type": "at", "data": {"qq": str(SELF_ID)}}, txt(" " + line)]
            else:
                segs = [txt(line)]
        else:
            line, r = rng.choice(CHAT), rng.random()
            if r < 0.07:
                segs = [{"type": "image", "data": {"file": f"{i:016x}.jpg", "url": "https://x/0"}}]
            elif r < 0.11:
                segs = [{"type": "face", "data": {"id": "14"}}, txt(line)]
            elif r < 0.15:
                segs = [{"type": "reply", "data": {"id": str(max(1_000_000, mid - 3))}}, txt(line)]
            else:
                segs = [txt(line)]
        out.append(group_event(rng, mid, segs))
    return out


def txt(s: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": s}}


class FakeAdapter(Adapter):
    """Answers the few API calls in-process (get_msg for quoted replies; uninfo's
    get_group_info / get_group_member_info); counts them."""

    calls: dict[str, int] = {}
    by_id: dict[int, dict[str, Any]] = {}

    async def _call_api(self, bot: Any, api: str, **data: Any) -> Any:
        self.calls[api] = self.calls.get(api, 0) + 1
        if api == "get_msg":
            ev = self.by_id.get(data["message_id"]) or next(iter(self.by_id.values()))
            return {"time": ev["time"], "message_type": "group", "message_id": ev["message_id"],
                    "real_id": ev["message_id"], "sender": ev["sender"], "message": ev["message"]}  # fmt: skip
        if api == "get_group_info":
            return {"group_id": data["group_id"], "group_name": "车主群", "member_count": 60}
        if api == "get_group_member_info":
            return {"group_id": data["group_id"], "user_id": data["user_id"], "nickname": "老王",
                    "card": "", "role": "member", "join_time": 0, "sex": "unknown"}  # fmt: skip
        return {}


def events_of(raw: list[dict[str, Any]]) -> list[GroupMessageEvent]:
    return [GroupMessageEvent.model_validate(e) for e in raw]


# --- the matcher sets -------------------------------------------------------------


def swap_matchers() -> Callable[[], dict[int, list[Any]]]:
    """Take the current matchers out of NoneBot; return a function giving them back."""
    from nonebot.matcher import matchers

    def take() -> dict[int, list[Any]]:
        saved = {p: list(ms) for p, ms in matchers.items()}
        matchers.clear()
        return saved

    return take


def restore(saved: dict[int, list[Any]]) -> None:
    from nonebot.matcher import matchers

    matchers.clear()
    for priority, ms in saved.items():
        matchers[priority] = ms


HITS = {"front": 0, "alconna": 0}


def build_front() -> None:
    async def fixed_roles(bot: Any, event: Any) -> set[str]:
        return {"member"}

    front.asker_roles = fixed_roles  # no desk here: a constant, the same for every variant
    for plugin, words in PLUGINS.items():
        table = front.CommandTable()
        for word, role, bare in words:

            async def handler(bot: Any, event: Any, call: front.Call) -> None:
                HITS["front"] += 1

            table.word(word, role="member", desc=f"{word} ({role})", bare=bare)(handler)
        table.matcher(priority=10, block=True)
        del plugin


def build_alconna() -> None:
    for words in PLUGINS.values():
        for word, _role, bare in words:
            cmd = Alconna(word) if bare else Alconna(word, Args["rest?", AllParam])
            matcher = on_alconna(cmd, use_cmd_start=True, priority=10, block=True)

            async def handler(result: Arparma) -> None:
                HITS["alconna"] += 1

            matcher.handle()(handler)


def alconna_commands() -> list[Alconna]:
    """Parse-level commands: one per word, as the matchers have them."""
    return [
        Alconna(w, Args["rest?", AllParam]) if not b else Alconna(w)
        for words in PLUGINS.values()
        for w, _, b in words
    ]


# --- timing -----------------------------------------------------------------------------


Variant = tuple[Callable[[], list[Any]], Callable[[Any], Any], bool]  # make, one, is_async


async def timed(rounds: int, variants: dict[str, Variant]) -> dict[str, float]:
    """CPU µs per item of each variant, best round; the variants take turns, so a
    change in the machine's other load hits them alike."""
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(rounds):
        for label, (make, one, is_async) in variants.items():
            items = make()
            gc.collect()
            t = time.process_time()  # CPU time: the machine is shared
            if is_async:
                for item in items:
                    await one(item)
            else:
                for item in items:
                    one(item)
            best[label] = min(best[label], (time.process_time() - t) / len(items))
    return {label: v * 1e6 for label, v in best.items()}


async def amain(args: argparse.Namespace) -> None:
    logger.remove()  # no log output: the same for every variant
    driver = nonebot.get_driver()
    adapter = FakeAdapter(driver)
    bot = Bot(adapter, str(SELF_ID))
    raw = plan(args.events, args.seed)
    FakeAdapter.by_id = {e["message_id"]: e for e in raw}
    take = swap_matchers()
    take()  # alconna/uninfo register no matchers of their own; start empty

    build_front()
    front_set = take()
    n_cmd = sum(
        any(s["type"] == "text" and front_word(s["data"]["text"]) for s in e["message"])
        for e in raw
    )
    build_alconna()
    alconna_set = take()
    per_word = alconna_commands()
    plugin_cmds = build_plugin_commands()

    # parse level
    def a_parse(ev: GroupMessageEvent) -> Any:
        return front.parse_text(ev.get_plaintext())

    def first_match(commands: list[Alconna]) -> Callable[[GroupMessageEvent], Any]:
        def parse(ev: GroupMessageEvent) -> Any:
            msg = UniMessage.of(message=ev.get_message(), bot=bot)
            for cmd in commands:
                res = cmd.parse(msg)
                if res.matched:
                    return res
            return None

        return parse

    b_parse, b1_parse = first_match(per_word), first_match(plugin_cmds)
    ok_a = sum(a_parse(e) is not None for e in events_of(raw))
    ok_b = sum(b_parse(e) is not None for e in events_of(raw))
    print(f"front_bench: {args.events} group events ({n_cmd} start with a command word; "
          f"taken as commands at the parse level: {ok_a} by bot.front, {ok_b} by alconna, "
          "which sees no '/' or @bot here), CPU µs per event, best of "
          f"{args.repeat} rounds", flush=True)  # fmt: skip
    every = lambda: events_of(raw)  # noqa: E731
    parse = await timed(args.repeat, {
        "parse (a) front": (every, a_parse, False),
        "parse (b) alconna, 46 commands": (every, b_parse, False),
        "parse (b1) alconna, 12 (regex head per plugin)": (every, b1_parse, False),
    })  # fmt: skip
    show(parse, "parse (a) front")

    # dispatch level
    async def handle(ev: GroupMessageEvent) -> None:
        await bot.handle_event(ev)

    sub = raw[: args.dispatch_events]  # 46 matchers on every event is slow to time

    def run_set(saved: dict[int, list[Any]], filtered: bool) -> Callable[[], list[Any]]:
        def make() -> list[Any]:
            restore(saved)
            if filtered:
                prefilter.install_prefilter()
            else:
                prefilter.uninstall_prefilter()
            return events_of(sub)

        return make

    dispatch = await timed(args.repeat, {
        "dispatch (a) front + prefilter": (run_set(front_set, True), handle, True),
        "dispatch (b) alconna, 46 matchers": (run_set(alconna_set, False), handle, True),
        "dispatch (b2) alconna + prefilter": (run_set(alconna_set, True), handle, True),
        "dispatch (0) no matcher, no prefilter": (run_set({}, False), handle, True),
    })  # fmt: skip
    n_sub_cmd = sum(front.parse_text(GroupMessageEvent.model_validate(e).get_plaintext()) is not None
                    for e in sub)  # fmt: skip
    print(f"  dispatch level: the first {len(sub)} events ({n_sub_cmd} commands); handlers "
          f"reached per round: front {HITS['front'] // args.repeat}, alconna "
          f"{HITS['alconna'] // args.repeat} (both alconna sets)")  # fmt: skip
    show(dispatch, "dispatch (a) front + prefilter")

    # who / where
    def c_origin(ev: GroupMessageEvent) -> Any:
        return origin_of(bot, ev)

    from nonebot_plugin_uninfo.adapters import INFO_FETCHER_MAPPING

    await get_session(bot, events_of(raw[:1])[0])  # maps the fetcher on first use
    fetcher = INFO_FETCHER_MAPPING[bot.adapter.get_name()]

    async def d_session(ev: GroupMessageEvent) -> Any:
        return await get_session(bot, ev)

    def cold() -> list[Any]:
        fetcher.clean()
        return events_of(raw)

    FakeAdapter.calls.clear()
    who = await timed(args.repeat, {
        "who (c) origin_of": (every, c_origin, False),
        "who (d) uninfo get_session, cold cache": (cold, d_session, True),
        "who (d) uninfo get_session, warm cache": (every, d_session, True),
    })  # fmt: skip
    calls = {k: v // args.repeat for k, v in FakeAdapter.calls.items() if k != "get_msg"}
    print(f"  uninfo, cold cache: QQ client API calls per round {calls} (each a WebSocket "
          "round trip in production; answered in-process here)")  # fmt: skip
    show(who, "who (c) origin_of")


def show(results: dict[str, float], base: str) -> None:
    print(f"  {'':<48}{'µs/event':>10}{'x (a)':>9}")
    for label, us in results.items():
        print(f"  {label:<48}{us:>10.1f}{us / results[base]:>8.2f}x", flush=True)


def front_word(text: str) -> bool:
    return front.parse_text(text.strip()) is not None


def build_plugin_commands() -> list[Alconna]:
    """One Alconna per plugin and shape: a regex header naming the plugin's words
    (one for the bare words, one for those taking arguments)."""
    out = []
    for words in PLUGINS.values():
        bare = [w for w, _, b in words if b]
        rest = [w for w, _, b in words if not b]
        if rest:
            out.append(Alconna(f"re:({'|'.join(rest)})", Args["rest?", AllParam]))
        if bare:
            out.append(Alconna(f"re:({'|'.join(bare)})"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dispatch-events", type=int, default=300,
                        help="the first N events for the dispatch level")  # fmt: skip
    parser.add_argument("--seed", type=int, default=20261206)
    asyncio.run(amain(parser.parse_args()))


if __name__ == "__main__":
    main()
