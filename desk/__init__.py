"""The lead desk (线索台): store, lifecycle, scheduling, assignment, outbox,
reports. Imports nothing from NoneBot; the bot, a web page and a CLI drive
this same API."""

from desk.capture import storable
from desk.clock import Clock, FrozenClock, SystemClock
from desk.errors import (
    ConfigError,
    DeskError,
    DuplicateMember,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    LeadNotFound,
    MemberNotFound,
)
from desk.events import EventBus, LeadCaptured, LeadEvent, StageChanged
from desk.phone import mask_phone, normalize_phone
from desk.reports import FunnelRow, Period
from desk.service import Desk
from desk.settings import DeskSettings, build_settings, load_settings
from desk.store import PluginBase, UnitOfWork
from desk.views import (
    STAGE_NAMES,
    SYSTEM,
    Actor,
    CaptureResult,
    LeadDetail,
    LeadView,
    MemberView,
    OutboxItem,
    TaskItem,
    TaskList,
    TimelineView,
)

__all__ = [
    "STAGE_NAMES", "SYSTEM", "Actor", "CaptureResult", "Clock", "ConfigError", "Desk", "DeskError",
    "DeskSettings", "DuplicateMember", "EventBus", "Forbidden", "FrozenClock", "FunnelRow", "InvalidInput",
    "InvalidTransition", "LeadCaptured", "LeadDetail", "LeadEvent", "LeadNotFound", "LeadView", "MemberNotFound",
    "MemberView", "OutboxItem", "Period", "PluginBase", "UnitOfWork", "StageChanged", "SystemClock", "TaskItem", "TaskList", "TimelineView",
    "build_settings", "load_settings", "mask_phone", "normalize_phone", "storable",
]  # fmt: skip
