"""The charter's rules, and nothing else: what the network decides and how it counts.

Pure Python — no `await`, no Telegram, no SQL, no import of storage, the flows or the Telegram
side (import-linter checks it). A newcomer learns the charter here; its tests need only Python.
"""
