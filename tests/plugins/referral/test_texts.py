"""The referral replies' small format functions (bot/plugins/referral/texts.py)."""

from __future__ import annotations

OWNER = "wechat:o_owner_0000000000000000001"


def test_accounts_for_staff_and_referrers_for_everyone() -> None:
    from bot.plugins.referral import texts

    assert texts.account_label("qq:20001") == "QQ 20001"
    assert texts.account_label(OWNER) == f"微信 {OWNER.split(':', 1)[1]}"
    assert texts.public_referrer_name(None, OWNER) == "微信车主·0001"
    assert texts.public_referrer_name(None, "qq:20001") == "QQ好友 20****01"
    assert texts.public_referrer_name("老张", OWNER) == "老张"


def test_the_referrers_dms_never_show_a_full_number() -> None:
    from bot.plugins.referral import texts
    from features.referral.people import Friend

    friend = Friend("张先生", "13812345678", None)
    visited = texts.WORDING.visited_dm(friend, 200)
    assert "已到店" in visited and "200 积分" in visited and "138****5678" in visited
    won = texts.WORDING.won_dm(friend, "保养套餐一次")
    assert "已成交" in won and "保养套餐一次" in won and "13812345678" not in won
    assert texts.friend_label(Friend(None, None, "qq:30001")) == "QQ好友 30****01"
    assert texts.friend_label(Friend(None, None, "wecom:wm1")) == "企业微信好友"
