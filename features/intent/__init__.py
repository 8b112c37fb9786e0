"""Purchase intent in people's messages: the vocabulary (config/intent.toml) and
the detector, NoneBot-free; the chat front is bot/plugins/intent."""
