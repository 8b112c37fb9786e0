"""The one outbox dispatcher: delivers the desk's notifications, one transport per
channel, one claim-send-finish loop, one failure classifier.

- `loop`: the loop. It claims one notification at a time just before sending it
  (its lease then covers its own send only), and only on channels whose bot is
  connected (so a disconnected client fails nothing), then reports back through
  `finish`: sent; surely not sent (`notification_failed`, retried by the desk
  with backoff unless final); or maybe arrived (`notification_uncertain`: never
  resent blindly). bot.sending.classify_failure tells them apart for every transport.
- `qq`: QQ DMs ("qq") and group posts ("qq_group", through the paced group queue).
- `wechat`: WeCom app DMs ("wecom"), Official Account customer-service messages
  ("wechat_oa") and WeCom customer-group mass-send tasks ("wecom_group"), over the
  WeChat adapter's client (the adapter itself knows nothing of the desk).

One task per transport (bot.desk_runtime starts them): each claims only its own
channels, so a slow WeChat send neither delays QQ nor touches QQ's leases.
"""

from bot.dispatch.loop import Send, Senders, deliver_one, deliver_round, delivery_loop, finish

__all__ = ["Send", "Senders", "deliver_one", "deliver_round", "delivery_loop", "finish"]
