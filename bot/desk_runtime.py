"""The bot's one Desk: opened at start-up, closed at shutdown, shared by plugins.

Plugins reach it through `get_desk()` (or the `DeskDep` parameter), never by
opening the database themselves. A plugin that needs the desk's events or its
minute schedule registers with `when_desk_opens(callback)`: plugins load before
the desk opens, and each desk opened (one per process; one per test) gets them.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from nonebot import get_driver
from nonebot.params import Depends

from bot.adapters.wechat.delivery import wechat_delivery_loop, wechat_enabled
from bot.delivery import delivery_loop, schedule_loop
from desk import Desk, DeskSettings, load_settings
from desk.clock import Clock, ShiftedClock
from desk.roster import load_roster_file
from desk.settings import DEFAULT_CONFIG_DIR

log = logging.getLogger(__name__)


class _Runtime:
    desk: Desk | None = None
    settings: DeskSettings | None = None
    stop: asyncio.Event | None = None
    tasks: list[asyncio.Task] = []
    on_open: list[Callable[[Desk], None]] = []


def when_desk_opens(callback: Callable[[Desk], None]) -> None:
    """`callback(desk)` for the desk open now (if any) and every desk opened later:
    subscribe to its domain events, add a schedule."""
    if callback not in _Runtime.on_open:
        _Runtime.on_open.append(callback)
        if _Runtime.desk is not None:
            callback(_Runtime.desk)


def _opened(desk: Desk) -> None:
    _Runtime.desk = desk
    for callback in _Runtime.on_open:
        callback(desk)


def load_desk_settings() -> DeskSettings:
    """Validate the desk config and the roster before anything starts (raises ConfigError)."""
    _Runtime.settings = load_settings()
    load_roster_file(roster_file())
    return _Runtime.settings


def roster_file() -> Path:
    """roster.toml next to desk.toml: DESK_CONFIG_DIR when set, as load_settings reads it."""
    return Path(os.environ.get("DESK_CONFIG_DIR") or DEFAULT_CONFIG_DIR) / "roster.toml"


def rehearsal_clock() -> Clock | None:
    """DESK_CLOCK_SHIFT_FILE: a shifted clock for demos and end-to-end rehearsals
    (desk.clock.ShiftedClock); unset in production, where the system clock runs."""
    path = os.environ.get("DESK_CLOCK_SHIFT_FILE")
    if not path:
        return None
    log.warning("desk clock shifted by the seconds in %s (a rehearsal, not production)", path)
    return ShiftedClock(Path(path))


async def start_desk(*, background: bool = True) -> Desk:
    settings = _Runtime.settings or load_desk_settings()
    # SUPERUSERS are managers everywhere: the desk tells them what it tells roster managers.
    desk = await Desk.open(
        settings, clock=rehearsal_clock(), roster_file=roster_file(),
        superusers=get_driver().config.superusers,
    )  # fmt: skip
    _opened(desk)
    if background:
        _Runtime.stop = asyncio.Event()
        _Runtime.tasks = [
            asyncio.create_task(delivery_loop(desk, _Runtime.stop), name="outbox-delivery"),
            asyncio.create_task(schedule_loop(desk, _Runtime.stop), name="desk-schedules"),
        ]
        if wechat_enabled():
            _Runtime.tasks.append(
                asyncio.create_task(
                    wechat_delivery_loop(desk, _Runtime.stop), name="wechat-delivery"
                )
            )
    log.info("desk open on %s", settings.database_url.split("///")[0])
    return desk


async def stop_desk() -> None:
    if _Runtime.stop is not None:
        _Runtime.stop.set()
        await asyncio.gather(*_Runtime.tasks, return_exceptions=True)
    _Runtime.tasks, _Runtime.stop = [], None
    if _Runtime.desk is not None:
        await _Runtime.desk.close()
        _Runtime.desk = None


def set_desk(desk: Desk | None) -> None:
    """For tests: use this desk instead of opening one."""
    if desk is None:
        _Runtime.desk = None
    else:
        _opened(desk)


def get_desk() -> Desk:
    if _Runtime.desk is None:
        raise RuntimeError("the desk is not open yet")
    return _Runtime.desk


DeskDep = Annotated[Desk, Depends(get_desk)]
