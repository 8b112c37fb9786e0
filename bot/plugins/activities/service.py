"""TEMPORARY (issue #10): the events plugin and its tests still import these names
from here; they live in features.activities now. Point events at
features.activities.members.recorded_member, features.activities.config.WeComGroupLink
and features.activities.mass_send.queue_mass_sends, then delete this file."""

from features.activities.config import WeComGroupLink
from features.activities.members import recorded_member

__all__ = ["WeComGroupLink", "recorded_member"]
