"""What the bot says: the message catalogues (`locale/*.po`), `t()`, and the renderers of cards,
results, lists and digests. Text in, text out: no Telegram, no storage access."""
