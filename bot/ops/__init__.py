"""Operating the bot (SPEC §9): what `wiq-bot` does around the Application.

`run.py` is `wiq-bot run`: one bot per database (the guard in storage/lock.py), the schema
brought up to date, Telegram reached (a rejected token is one line; an unreachable Bot API is
retried with backoff), the updates fetched (long polling, or the webhook of `webhook.py`), the
heartbeat, and the stop. `health.py` is the heartbeat the running bot writes and
`wiq-bot health`, which reads it. `database.py` is what an operator does to the database file:
`backup`, `restore`, `migrate`, the version, and the files' modes."""
