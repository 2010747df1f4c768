"""The Telegram side of the bot: the outbox (the one way to send), the update processor, the
callback-data codec. It adapts the flows' port to the Bot API; `handlers/` adapts updates."""
