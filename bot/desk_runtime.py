"""The bot's one Desk: opened at start-up, closed at shutdown, shared by plugins.

Plugins reach it through `get_desk()` (or the `DeskDep` parameter), never by
opening the database themselves. A plugin that needs the desk's events or its
minute schedule registers with `when_desk_opens(callback)`: plugins load before
the desk opens, and each desk opened (one per process; one per test) gets them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import Annotated

from nonebot import get_driver
from nonebot.params import Depends

from bot.dispatch import delivery_loop, qq, wechat
from bot.settings import BotSettings, load_settings
from desk import Desk
from desk.clock import Clock, ShiftedClock

log = logging.getLogger(__name__)

SCHEDULE_SECONDS = 60.0


class _Runtime:
    desk: Desk | None = None
    settings: BotSettings | None = None
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


def use_settings(settings: BotSettings) -> None:
    """The settings the desk opens with (bot.app, once validated at start)."""
    _Runtime.settings = settings


def current_settings() -> BotSettings:
    """The settings given at start; without a start (a test, a bench opening the desk
    itself), the environment's alone."""
    return _Runtime.settings or load_settings({}, os.environ)


def rehearsal_clock(settings: BotSettings) -> Clock | None:
    """DESK_CLOCK_SHIFT_FILE: a shifted clock for demos and end-to-end rehearsals
    (desk.clock.ShiftedClock); unset in production, where the system clock runs."""
    path = settings.clock_shift_file
    if path is None:
        return None
    log.warning("desk clock shifted by the seconds in %s (a rehearsal, not production)", path)
    return ShiftedClock(path)


async def schedule_loop(desk: Desk, stop: asyncio.Event) -> None:
    """Queues digests, reports, escalations and the features' scheduled posts; the
    desk's keys make reruns harmless."""
    while not stop.is_set():
        try:
            await desk.run_schedules()
        except Exception:
            log.exception("scheduled jobs failed; trying again next minute")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SCHEDULE_SECONDS)


async def start_desk(*, background: bool = True) -> Desk:
    settings = current_settings()
    # SUPERUSERS are managers everywhere: the desk tells them what it tells roster managers.
    desk = await Desk.open(
        settings.desk, clock=rehearsal_clock(settings), roster_file=settings.roster_file,
        superusers=get_driver().config.superusers,
    )  # fmt: skip
    _opened(desk)
    if background:
        stop = _Runtime.stop = asyncio.Event()
        # One delivery task per transport: each claims only its own channels.
        _Runtime.tasks = [
            asyncio.create_task(delivery_loop(desk, stop, qq.connected), name="qq-delivery"),
            asyncio.create_task(schedule_loop(desk, stop), name="desk-schedules"),
        ]
        if wechat.enabled():
            _Runtime.tasks.append(
                asyncio.create_task(
                    delivery_loop(desk, stop, wechat.connected), name="wechat-delivery"
                )
            )
    log.info("desk open on %s", settings.desk.database_url.split("///")[0])
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
