"""The flows: one module per thing the network does (decisions, nominations, admissions,
delegations, elections, support requests, petitions, personal data, rosters, reminders,
digests). A flow reads and writes through `storage/`, applies the charter, and says what to post
through the port (`bot.flows.port`); it never speaks Telegram itself."""
