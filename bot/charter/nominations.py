"""When a joint nomination of PT and ST is appointed, and when it lapses (SPEC §5).

A nomination is two decisions, one in the PT and one in the ST, each taken by that team's own
process, and the candidate's answer. It is appointed once all three said yes, in any order; a
candidate who does not answer within the acceptance window after both teams approved lets it
lapse. Either team's no, or the candidate's, ends it (the flow handles those at once).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def ready_to_appoint(*, both_approved_at: datetime | None, accepted_at: datetime | None) -> bool:
    """Both teams approved and the candidate accepted: appoint (exactly once, in the flow)."""
    return both_approved_at is not None and accepted_at is not None


def has_lapsed(
    *,
    both_approved_at: datetime | None,
    accepted_at: datetime | None,
    acceptance_window: timedelta | None,
    now: datetime,
) -> bool:
    """The candidate let the acceptance window pass after both teams approved. Without a
    window (none configured) a nomination never lapses."""
    if both_approved_at is None or accepted_at is not None or acceptance_window is None:
        return False
    return now >= both_approved_at + acceptance_window
