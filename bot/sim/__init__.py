"""A OneBot v11 QQ-client simulator for trying and testing the bot end to end.

    python -m bot.sim --url ws://127.0.0.1:8080/onebot/v11/ws --token T --script help

`OneBotClient` is the reusable part (tests/e2e use it).
"""

from bot.sim.client import ApiCall, ApiError, NoReply, OneBotClient, is_group_send

__all__ = ["ApiCall", "ApiError", "NoReply", "OneBotClient", "is_group_send"]
