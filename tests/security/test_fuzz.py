"""Bad input never crashes a handler (spec §5): every command word, fuzzed arguments,
every role, on QQ and WeChat.

The command words are read at test time from the loaded plugins' metadata
(`__plugin_meta__.extra["commands"]`, the list the prefilter and 帮助 use), so a new
command is fuzzed without touching this file. Each Hypothesis example sends one
word with an argument from a role (the last test checks every word and role was
reached): any Unicode
(lone surrogates too, as a JSON payload may carry them), up to 10,000 characters,
CQ codes, loguru tags, SQL/HTML injections, numbers at the limits, impossible dates.

For each input:
- no handler raises and nothing is logged at ERROR or above;
- every reply is text with at least one Chinese character (or there is none), with no
  English sentence the user did not type (a library's error message) and no lone
  surrogate (unsendable), and a QQ reply is made of text/@ segments only (no CQ code
  from the input comes alive);
- nothing posted to a group shows an unmasked mobile number;
- a refused input (a usage line or one of the plugins' error texts) changed no row
  in any table of the desk's database.

Replies are recorded rather than expected: the bot may answer any number of times
(nonebug's `got_call_api` / `got_call_send` are replaced on the test context).
More examples for a deeper hunt: FUZZ_EXAMPLES=10000 pytest tests/security/test_fuzz.py
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nonebot.adapters.onebot.v11 import Bot as QQBot
from nonebot.adapters.onebot.v11 import Message as QQMessage
from nonebot.adapters.onebot.v11 import MessageSegment as QQSegment
from nonebug import App
from sqlalchemy import inspect, text

from bot.adapters.wechat import Message, MessageSegment, OAMessageEvent, WeComMessageEvent
from desk import SYSTEM, Desk
from tests.support.chat import handler_errors, logged
from tests.support.nonebot_env import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    ROSTER_MANAGER_QQ,
    SELF_ID,
    adapter,
    group_event,
    private_event,
)
from tests.support.wechat_chat import OA_SELF, WECOM_SELF, oa_bot, wecom_bot

pytestmark = pytest.mark.usefixtures("desk")

EXAMPLES_QQ = int(os.environ.get("FUZZ_EXAMPLES", "1500"))
EXAMPLES_WECHAT = max(1, EXAMPLES_QQ // 2)
OWNER_QQ = 20001
GROUP = 123456
FOLLOWER = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
WECOM_MANAGER = "zhaoliu"
WECOM_CONSULTANT = "qianqi"
WECOM_STRANGER = "sunba"  # a WeCom app user who is on no roster
_msg_ids = count(9_500_000_000)

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){3,}")  # e.g. a library's error message
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# Texts a plugin answers bad input with; such an answer must have changed nothing.
REFUSAL_NAMES = re.compile(
    r"USAGE\w*|BAD_\w+|\w*_ONLY|NOT_(STAFF|MANAGER|FOUND|RECORDED|SIGNED_UP)|INVALID"
    r"|\w*TOO_(LONG|FAR|MANY|BIG)|\w*NOT_FOUND|NO_EVENT|FORBIDDEN_GENERIC|TOPIC_BAD_TIME"
    r"|TOPIC_PAST|START_PAST|DEADLINE_\w+|PHONE_IN_NAME|STAFF_CANNOT_REFER|SELF_REFERRAL"
    r"|STAFF_APP|STAFF_NO_CODE|TRANSITION|PARTY_TOO_BIG|CARS_\w+|ATTEND_TOO_EARLY"
)

# -- strategies --------------------------------------------------------------------------

MARKUP = [
    "[CQ:at,qq=all]", "[CQ:image,file=http://x]", "[CQ:image,file=file:///etc/passwd]",
    "[CQ:face,id=1]", "[CQ:reply,id=-1]", "&#91;CQ:at,qq=all&#93;", "[CQ:", "]",
    "<red>", "</>", "<想买车>", "</red>", "<lvl>", "{}", "{0}", "{message}", "%s", "%(x)s",
    "'; DROP TABLE leads; --", "\" OR 1=1 --", "1; DELETE FROM roster_members", "' OR ''='",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "&lt;b&gt;", "${jndi:x}",
    "\x00", "\udc80", "名\udcff", "\ud83d", "\r\n", "\t", "\u200b", "\u202e", "\ufeff", "　", "\\", "@全体成员", "@all",
]  # fmt: skip
NUMBERS = [
    "0", "-1", "2**63", str(2**63), str(2**63 - 1), str(-(2**63)), "1e309", "-1e309", "nan",
    "inf", "99999999999999999999", "#0", "#-1", "#99999999999999999999", "1.5", "０１２",
    "١٢٣", "²", "Ⅻ", "一百", "十万", "20人", "0人", "-3人", "99999人", "8车", "0车", "#1",
    "1", "2", "12", "H", "A", "B", "C", "Z",
]  # fmt: skip
DATES = [
    "2月30日", "2月30日 25点", "25点", "13月1日", "0月0日", "明天25点", "周八", "昨天",
    "1900年1月1日", "9999年12月31日", "明天下午3点", "周六上午10点", "3天后", "99999天后",
    "12月1号 14:00", "24:61", "每天", "每周八", "截止", "截止 2月30日", "下午", "上午10点",
]  # fmt: skip
PHONES = ["13812345678", "138 1234 5678", "+86 138-1234-5678", "12345678901", "1381234567"]

tokens = st.one_of(
    st.sampled_from(MARKUP),
    st.sampled_from(NUMBERS),
    st.sampled_from(DATES),
    st.sampled_from(PHONES),
    st.text(max_size=12),
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.binary(min_size=1, max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.integers().map(str),
    st.floats().map(str),
)
arguments = st.one_of(
    st.just(""),
    st.lists(tokens, max_size=6).map(" ".join),
    st.lists(tokens, max_size=4).map("".join),
    st.text(max_size=40),  # any code point, lone surrogates included
    st.text(max_size=10_000),
    st.tuples(tokens, st.integers(1, 10_000)).map(lambda t: (t[0] * t[1])[:10_000]),
    st.binary(max_size=40).map(lambda b: b.decode("gbk", "replace")),
    st.binary(max_size=40).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.text("😀🚗🎉👨‍👩‍👧🏻\u0301", max_size=30),  # emoji, ZWJ sequences, modifiers
)
prefixes = st.sampled_from(["", "", "/", "／", " "])


def _slot(name: str) -> st.SearchStrategy[str]:
    """Values for one <slot> of a usage line: mostly well-formed, sometimes anything."""
    if "QQ" in name:
        well = st.sampled_from(["12345", "20002", str(CONSULTANT_QQ), "0", "123456789012"])
    elif "手机" in name:
        well = st.sampled_from(PHONES)
    elif "号" in name:
        well = st.sampled_from(["1", "2", "3", "#1", "＃2", "#3", "4"])
    elif "时间" in name:
        well = st.sampled_from(DATES)
    elif "名额" in name or "人" in name:
        well = st.sampled_from(["20人", "2人", "5", "1人", "3"])
    elif "车" in name:
        well = st.sampled_from(["1车", "8车"])
    elif "成员" in name:
        well = st.sampled_from(["@张三", "[CQ:at,qq=20001]", "20001", "@全体成员"])
    else:
        well = st.sampled_from(["张先生", "周末自驾游", "4S店门口", "客户在比价", "轩逸", "带孩子"])
    return st.one_of(well, well, tokens)


def usage_arguments(usage: str) -> st.SearchStrategy[str]:
    """Arguments shaped like a usage line from the metadata ("跟进 <号> <结果> [下次 <时间>]"):
    slots filled, optional parts kept or dropped, alternatives ("a|b") picked."""
    line = usage.split("——")[0].split(" 或 ")[0].replace("[", " [ ").replace("]", " ] ")
    parts: list[st.SearchStrategy[str]] = []
    optional = 0
    for word in line.split()[1:]:
        if word in ("[", "]"):
            optional += 1 if word == "[" else -1
            continue
        choices = [w for w in word.split("|") if w]
        part = (
            st.one_of(*(_slot(c) if c.startswith("<") else st.just(c) for c in choices))
            if choices
            else st.just("")
        )
        parts.append(st.one_of(part, st.just("")) if optional > 0 else part)
    return st.tuples(*parts).map(lambda t: " ".join(x for x in t if x)) if parts else st.just("")


QQ_ROLES = ["owner-group", "owner-dm", "consultant-dm", "consultant-group", "manager-dm",
            "manager-group", "roster-manager-group"]  # fmt: skip
WECHAT_ROLES = ["oa-follower", "wecom-manager", "wecom-consultant", "wecom-stranger"]


# -- the words, the refusals -----------------------------------------------------------------


def command_usages() -> dict[str, str]:
    """Every command word the loaded plugins (not the tests' fixtures) declare, with its
    description (the usage line 帮助 shows)."""
    from nonebot import get_loaded_plugins

    usages = {}
    for plugin in get_loaded_plugins():
        if plugin.module_name.startswith("tests.") or plugin.metadata is None:
            continue
        for entry in plugin.metadata.extra.get("commands", []):
            word = entry["cmd"].strip().lstrip("/")
            if word:
                usages.setdefault(word, str(entry.get("desc") or word))
    return dict(sorted(usages.items()))


def command_words() -> list[str]:
    return list(command_usages())


def typed_text(data: st.DataObject, prefix: str, argument: str) -> tuple[str, str]:
    """A command word and what follows it: the fuzzed `argument`, or (as often) one
    shaped by the word's usage line."""
    usages = command_usages()
    word = data.draw(st.sampled_from(list(usages)), label="word")
    if data.draw(st.booleans(), label="shaped by the usage line"):
        argument = data.draw(usage_arguments(usages[word]), label="shaped argument")
    return word, f"{prefix}{word} {argument}"


def _template(value: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^{}]*\}", value)
    return re.compile(".*".join(re.escape(p) for p in parts), re.DOTALL)


def refusals() -> list[re.Pattern[str]]:
    """The plugins' usage lines and error texts, as patterns ({fields} match anything)."""
    import importlib

    found: list[re.Pattern[str]] = [re.compile(r"用法：.*", re.DOTALL)]
    for name in ("activities", "deskchat", "events", "help", "privacy", "referral"):
        module = importlib.import_module(f"bot.plugins.{name}.texts")
        for attr, value in vars(module).items():
            if not REFUSAL_NAMES.fullmatch(attr):
                continue
            values = value.values() if isinstance(value, dict) else [value]
            found += [_template(v) for v in values if isinstance(v, str) and v.strip()]
    from bot.texts import ROLE_REFUSAL  # the command tables' refusals (bot.front)

    found += [_template(v) for v in ROLE_REFUSAL.values()]
    return found


def is_refusal(reply: str, patterns: list[re.Pattern[str]]) -> bool:
    reply = reply.strip()
    return any(p.fullmatch(reply) for p in patterns)


# -- recording what the bot says -------------------------------------------------------------


@dataclass
class Said:
    where: str  # "group" or "dm"
    text: str
    segments: list[str] = field(default_factory=list)  # QQ segment types


def _qq_text(message: Any) -> tuple[str, list[str]]:
    if isinstance(message, QQMessage):
        return message.extract_plain_text(), [s.type for s in message]
    if isinstance(message, QQSegment):
        return _qq_text(QQMessage(message))
    return str(message), ["str"]  # a plain str would be parsed as CQ code by the client


class Recorder:
    """Stands in for nonebug's expectations: records every call and answers it."""

    def __init__(self) -> None:
        self.said: list[Said] = []
        self.calls: list[str] = []

    def api(self, _adapter: Any, api: str, **data: Any) -> Any:
        self.calls.append(api)
        if api in ("send_group_msg", "send_private_msg", "send_msg"):
            where = "group" if api == "send_group_msg" or data.get("group_id") else "dm"
            self.said.append(Said(where, *_qq_text(data.get("message"))))
            return {"message_id": 1}
        if api == "send_group_forward_msg":
            for node in data.get("messages", []):
                content = node.get("data", {}).get("content") if isinstance(node, dict) else None
                self.said.append(Said("group", *_qq_text(content)))
            return {"message_id": 1}
        if api == "get_group_info":
            return {"group_id": data.get("group_id"), "group_name": "车友群", "member_count": 50}
        if api == "get_group_member_info":
            return {"user_id": data.get("user_id"), "nickname": "车友", "card": ""}
        if api == "send_text":  # WeChat: a DM to a user of the app
            self.said.append(Said("dm", str(data.get("text"))))
            return [{"errcode": 0}]
        return {}

    def send(self, _bot: Any, event: Any, message: Any, **_kwargs: Any) -> Any:
        self.calls.append("send")
        where = "group" if getattr(event, "message_type", "") == "group" else "dm"
        if isinstance(message, str) and not hasattr(event, "message_type"):  # WeChat
            self.said.append(Said("dm", message))
            return [{"errcode": 0}]
        self.said.append(Said(where, *_qq_text(message)))
        return {"message_id": 1}


@pytest.fixture
def log_errors() -> Iterator[list[str]]:
    """Everything logged at ERROR or above while the test runs."""
    with logged("ERROR") as seen:
        yield seen


@pytest.fixture
def crashes() -> list[Exception]:
    return handler_errors()


async def row_counts(desk: Desk) -> dict[str, int]:
    async def step(uow: Any) -> dict[str, int]:
        conn = await uow.session.connection()
        tables = sorted(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)
        row = (await uow.session.execute(text(sql))).one()
        return dict(zip(tables, row, strict=True))

    return await desk.read(step)


@dataclass
class Tally:
    """What the fuzz sent and heard, per platform: the last test checks it was enough."""

    inputs: int = 0
    answered: int = 0
    refused: int = 0
    words: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    distinct: set[str] = field(default_factory=set)


TALLY: dict[str, Tally] = {"qq": Tally(), "wechat": Tally(), "setup": Tally()}


@dataclass(repr=False)
class Fuzzer:
    app: App
    desk: Desk
    crashes: list[Exception]
    log_errors: list[str]
    refused: list[re.Pattern[str]]

    async def check(self, platform: str, role: str, word: str, make_bot: Any, event: Any) -> None:
        """Send one event from `role` and check what happened."""
        before = await row_counts(self.desk)
        recorder = Recorder()
        async with self.app.test_matcher() as ctx:
            ctx.got_call_api = recorder.api  # type: ignore[method-assign]
            ctx.got_call_send = recorder.send  # type: ignore[method-assign]
            ctx.receive_event(make_bot(ctx), event)
        typed = event.get_plaintext()
        where = f"{platform} {role}: {typed[:200]!r} (len {len(typed)})"
        assert not self.crashes, f"{where}: a handler raised {self.crashes!r}"
        assert not self.log_errors, f"{where}: logged {self.log_errors!r}"
        for said in recorder.said:
            # Text and @ only, but for the statistics' charts (bot.charts: a PNG drawn
            # from the desk's numbers; a customer's text never becomes a segment).
            assert set(said.segments) <= {"text", "at", "image"}, f"{where}: sent {said!r}"
            assert "image" not in said.segments or said.segments == ["text", "image"], said
            assert CJK.search(said.text), f"{where}: reply without Chinese {said.text!r}"
            said.text.encode("utf-8")  # a lone surrogate could not be sent (WeChat: not at all)
            english = [e for e in ENGLISH.findall(said.text) if e not in typed]
            assert not english, f"{where}: untranslated text in {said.text!r}"
            if said.where == "group":
                assert not MOBILE.search(said.text), f"{where}: phone in group {said.text!r}"
        refused = any(is_refusal(s.text, self.refused) for s in recorder.said)
        if refused:
            after = await row_counts(self.desk)
            changed = {t: (before[t], after[t]) for t in before if before[t] != after.get(t)}
            assert not changed, f"{where}: refused ({recorder.said!r}) yet changed {changed}"
        tally = TALLY[platform]
        tally.inputs += 1
        tally.answered += bool(recorder.said)
        tally.refused += refused
        tally.words.add(word)
        tally.roles.add(role)
        tally.distinct.add(typed)


@pytest.fixture
async def fuzzer(app: App, desk: Desk, crashes: list[Exception], log_errors: list[str]) -> Fuzzer:
    await desk.add_member(
        SYSTEM, name="赵经理", role="manager", wecom_userid=WECOM_MANAGER, dm_channel="wecom"
    )
    await desk.add_member(SYSTEM, name="钱顾问", wecom_userid=WECOM_CONSULTANT, dm_channel="wecom")
    for n in range(3):  # leads #1-#3, 王顾问's, for the lead commands to reach
        await desk.capture(channel=f"qq_group:{GROUP}", qq_id=str(30001 + n), name=f"客户{n}",
                           message="落地多少钱")  # fmt: skip
    fuzzer = Fuzzer(app, desk, crashes, log_errors, refusals())
    create = qq_event(
        "manager-group", "发起活动 周末自驾游 周六上午10点 4S店门口 20人 8车 截止 周五18点"
    )
    await fuzzer.check("setup", "manager-group", "发起活动", _qq_bot, create)  # event #1
    return fuzzer


# -- QQ --------------------------------------------------------------------------------------


def _qq_bot(ctx: Any) -> QQBot:
    return ctx.create_bot(base=QQBot, adapter=adapter(), self_id=str(SELF_ID))


def qq_event(role: str, typed: str) -> Any:
    who, _, where = role.rpartition("-")
    user = {"owner": OWNER_QQ, "consultant": CONSULTANT_QQ, "manager": MANAGER_QQ,
            "roster-manager": ROSTER_MANAGER_QQ}[who]  # fmt: skip
    if where == "group":
        return group_event(typed, user_id=user, group_id=GROUP)
    return private_event(typed, user_id=user)


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def test_the_command_words_come_from_the_plugins() -> None:
    words = command_words()
    assert len(words) >= 30, words
    for word in ("签到", "报名", "推荐", "跟进", "添加顾问", "帮助", "删除我的信息"):
        assert word in words, word


@fuzz_settings(EXAMPLES_QQ)
@given(data=st.data(), role=st.sampled_from(QQ_ROLES), prefix=prefixes, argument=arguments)
async def test_every_qq_command_survives_any_argument(
    fuzzer: Fuzzer, data: st.DataObject, role: str, prefix: str, argument: str
) -> None:
    word, typed = typed_text(data, prefix, argument)
    await fuzzer.check("qq", role, word, _qq_bot, qq_event(role, typed))


# -- WeChat (Official Account followers, WeCom app users) -----------------------------------


def wechat_event(role: str, typed: str) -> Any:
    common: dict[str, Any] = {
        "create_time": 1_790_000_000, "raw": {}, "msg_id": next(_msg_ids), "msg_type": "text",
        "message": Message(MessageSegment.text(typed)),
    }  # fmt: skip
    if role == "oa-follower":
        return OAMessageEvent(self_id=OA_SELF, to_user="gh_0123456789ab", from_user=FOLLOWER,
                              **common)  # fmt: skip
    user = {"wecom-manager": WECOM_MANAGER, "wecom-consultant": WECOM_CONSULTANT,
            "wecom-stranger": WECOM_STRANGER}[role]  # fmt: skip
    return WeComMessageEvent(self_id=WECOM_SELF, to_user="wwcorp0001", from_user=user,
                             agent_id=1000002, **common)  # fmt: skip


@fuzz_settings(EXAMPLES_WECHAT)
@given(data=st.data(), role=st.sampled_from(WECHAT_ROLES), prefix=prefixes, argument=arguments)
async def test_every_wechat_command_survives_any_argument(
    fuzzer: Fuzzer, data: st.DataObject, role: str, prefix: str, argument: str
) -> None:
    word, typed = typed_text(data, prefix, argument)
    bot = oa_bot if role == "oa-follower" else wecom_bot
    await fuzzer.check("wechat", role, word, bot, wechat_event(role, typed))


# -- what the fuzz found ---------------------------------------------------------------------


async def answers(fuzzer: Fuzzer, make_bot: Any, event: Any) -> list[str]:
    recorder = Recorder()
    async with fuzzer.app.test_matcher() as ctx:
        ctx.got_call_api = recorder.api  # type: ignore[method-assign]
        ctx.got_call_send = recorder.send  # type: ignore[method-assign]
        ctx.receive_event(make_bot(ctx), event)
    return [said.text for said in recorder.said]


@pytest.mark.parametrize("name", ["名\udc80", "名\x00字"])
async def test_an_unstorable_consultant_name_is_refused_in_chinese(
    fuzzer: Fuzzer, name: str
) -> None:
    """Was: pydantic's English "Input should be a valid string, unable to parse raw data
    as a unicode string" in the reply (and a NUL went on to the database)."""
    before = await row_counts(fuzzer.desk)
    event = qq_event("manager-dm", f"添加顾问 12345 {name}")
    # (after the fuzz, this manager may also be told a pending 删除我的信息 is cancelled)
    assert "输入有误：含有无法识别的字符" in await answers(fuzzer, _qq_bot, event)
    assert await row_counts(fuzzer.desk) == before


async def test_undecodable_input_is_not_echoed_back_unsendable(fuzzer: Fuzzer) -> None:
    """Was: 「\udc80」 echoed into the reply, which cannot be encoded to UTF-8: WeChat's
    API (and a strict OneBot client) refuses the whole message, so the user hears nothing."""
    for make_bot, event in [
        (_qq_bot, qq_event("owner-dm", "帮助 \udc80")),
        (_qq_bot, qq_event("manager-group", "分配 1 名\udc80")),
        (oa_bot, wechat_event("oa-follower", "帮助 \udc80")),
    ]:
        # (after the fuzz, the asker may also be told a pending confirmation is cancelled)
        replies = await answers(fuzzer, make_bot, event)
        echoed = [r for r in replies if "「\ufffd」" in r or "「名\ufffd」" in r]
        assert echoed, replies
        for reply in replies:
            reply.encode("utf-8")


def test_the_fuzz_reached_every_word_and_role() -> None:
    """After the two fuzz tests (this module's order): enough inputs, every command word
    and every role on both platforms, and the bot was heard (answers, refusals)."""
    qq, wechat = TALLY["qq"], TALLY["wechat"]
    if not qq.inputs or not wechat.inputs:
        pytest.skip("run with the fuzz tests above")
    words = set(command_words())
    for tally, roles in ((qq, QQ_ROLES), (wechat, WECHAT_ROLES)):
        assert tally.words == words and tally.roles == set(roles)
        assert tally.answered >= tally.inputs // 3 and tally.refused >= tally.inputs // 10
    assert qq.inputs + wechat.inputs >= 1000
    assert len(qq.distinct) + len(wechat.distinct) >= 1000
    print(
        f"fuzz: QQ {qq.inputs} inputs ({len(qq.distinct)} distinct, {qq.answered} answered, "
        f"{qq.refused} refused); WeChat {wechat.inputs} ({len(wechat.distinct)} distinct, "
        f"{wechat.answered} answered, {wechat.refused} refused); {len(words)} command words"
    )
