"""The WiQ decision bot: config, wiring, the decision rules, the outbox and the texts."""

import os

# Opt in to PTB's future behaviour (durations as timedelta) now; the outbox reads both kinds,
# and this silences the deprecation warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")
