"""The owner-group features beside the desk (activities, events, referral): their
models, config and use cases, NoneBot-free. A use case is one transaction (the
caller's `desk.uow.UnitOfWork` or one it opens) and returns data, never reply
text: the chat fronts in bot/plugins/<name>/ and the web desk format it."""
