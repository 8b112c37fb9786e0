"""config/referral.toml: the rewards, the codes and the WeCom QR (validated at start)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from desk.config_file import config_path, load_toml

# A WeCom userid as the admin console allows it (letters, digits, _ - . @).
WeComUserId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]


class WeComReferralConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Staff whose 联系我 QR code an owner's 推荐码 hands out (WeCom allows 100 per QR);
    # none: no QR, the code alone.
    contact_users: Annotated[tuple[WeComUserId, ...], Field(max_length=100)] = ()


class ReferralConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Points to the referrer at the referred friend's first visit (or order / deal).
    visit_points: Annotated[int, Field(ge=0, le=100_000)] = 200
    # What a manager hands out for a won deal (listed in the reward ledger).
    deal_reward: Annotated[str, Field(min_length=1, max_length=64)] = "保养套餐一次（价值1000元）"
    # An invited friend who leaves the group within this many days voids the referral.
    stay_days: Annotated[int, Field(ge=0, le=365)] = 30
    # Codes: the prefix plus `code_length` characters without look-alikes.
    code_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")] = "TJ"
    code_length: Annotated[int, Field(ge=4, le=8)] = 5
    # Owners per list on the leaderboard (this month, all time).
    leaderboard_size: Annotated[int, Field(ge=1, le=50)] = 10
    wecom: WeComReferralConfig = WeComReferralConfig()


def load_config(path: Path | None = None) -> ReferralConfig:
    """Read and validate config/referral.toml (DESK_CONFIG_DIR's copy when there is one);
    desk.ConfigError naming the key when it is bad."""
    return load_toml(ReferralConfig, path or config_path("referral.toml"), "referral config")
