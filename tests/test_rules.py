"""The charter's decision rules, row by row (SPEC §3, §4, §5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.charter.course import (
    AwaitRevision,
    InvalidTransition,
    OpenNextRound,
    OpenRound,
    ProposalState,
    RecordDecision,
    StartVote,
    advance,
    after_majority_request,
    after_revision,
    after_revision_window,
    after_round,
    after_vote,
    can_request_majority,
    can_revise,
    can_withdraw,
    close_round,
    first_step,
    new_proposal,
)
from bot.charter.elections import tally_election
from bot.charter.outcomes import (
    BALLOT_OPTIONS,
    Ballot,
    DecisionOutcome,
    ObjectionStatus,
    ProposalStatus,
    Response,
    RoundOutcome,
    VoteOutcome,
    approved,
    is_about_a_person,
)
from bot.charter.policy import (
    DecisionKind,
    Policy,
    PolicyBook,
    Process,
    Silence,
    TeamKind,
)
from bot.charter.refusals import (
    CLOSED,
    NO_FAILED_ROUND,
    NO_FALLBACK,
    NO_ROUNDS_LEFT,
    NOT_PROPOSER,
    NOTHING_TO_REVISE,
    ROUND_OPEN,
    VOTE_OPEN,
    WINDOW_ENDED,
)
from bot.charter.tally import (
    Objection,
    TrackedObjection,
    everyone_responded,
    objections_to_carry,
    quorum_needed,
    tally_round,
    tally_vote,
    track_objections,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

CTM = Process.CONSENSUS_THEN_MAJORITY
MAJORITY = Process.MAJORITY
ONLY = Process.CONSENSUS_ONLY
CONSENT = Process.CONSENT
ROUND_PROCESSES = [CTM, ONLY, CONSENT]  # every process that has consensus rounds

AGREE, CONCERN, ABSTAIN, OBJECT = (
    Response.AGREE,
    Response.CONCERN,
    Response.ABSTAIN,
    Response.OBJECT,
)
YES, NO = Ballot.YES, Ballot.NO

CONSENSUS, OBJECTIONS, NO_QUORUM = (
    RoundOutcome.CONSENSUS,
    RoundOutcome.OBJECTIONS,
    RoundOutcome.NO_QUORUM,
)

PROPOSER = 1


def policy(process: Process = CTM, **fields) -> Policy:
    return Policy(process=process, **fields)


def members(size: int) -> frozenset[int]:
    """An electorate of people 1..size."""
    return frozenset(range(1, size + 1))


def answers(*choices):
    """Choices of people 1, 2, 3, … in that order."""
    return {person: choice for person, choice in enumerate(choices, start=1)}


def proposal_after(
    outcomes: list[RoundOutcome],
    process: Process = CTM,
    kind: DecisionKind = DecisionKind.PROPOSAL,
    **fields,
) -> tuple[ProposalState, object]:
    """Play rounds with these outcomes; between rounds the revision window simply runs out."""
    state, step = new_proposal(kind, policy(process, **fields), NOW)
    for outcome in outcomes:
        if state.status is ProposalStatus.AWAITING_REVISION:
            step = after_revision_window(state, state.revision_until)
            state = advance(state, step)
        assert state.status is ProposalStatus.ROUND_OPEN
        state, step = close_round(state, outcome, state.round_deadline)
    return state, step


# --- quorum ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quorum", "electorate_size", "needed"),
    [
        (0.5, 4, 2),
        (0.5, 5, 3),
        (0.5, 1, 1),
        (0.1, 30, 3),  # the float product is 3.0000000000000004
        (0.6, 5, 3),  # the float product is 3.0000000000000004
        (0.7, 10, 7),
        (1 / 3, 3, 1),
        (1.0, 7, 7),
        (0.0, 10, 0),
        (0.5, 0, 0),
    ],
)
def test_quorum_is_ceil_of_quorum_times_electorate_computed_exactly(
    quorum, electorate_size, needed
):
    assert quorum_needed(quorum, electorate_size) == needed


# --- consensus rounds: the table of SPEC §3.5, under every process with rounds -----------------

# (why, silence, quorum, electorate size, responses of people 1.., outcome) for processes
# consensus_then_majority and consensus_only, which read the table alike.
ROUND_TABLE = [
    ("one Einwand blocks although all others agree", Silence.NO_QUORUM, 0.5, 4,
     [AGREE, AGREE, AGREE, OBJECT], OBJECTIONS),
    ("an Einwand blocks even where silence counts as consent", Silence.CONSENT, 0.5, 4,
     [OBJECT], OBJECTIONS),
    ("silence counts as consent: nobody responded", Silence.CONSENT, 0.5, 4,
     [], CONSENSUS),
    ("R reaches q: 2 of 4", Silence.NO_QUORUM, 0.5, 4,
     [AGREE, CONCERN], CONSENSUS),
    ("Enthaltung counts toward the quorum", Silence.NO_QUORUM, 0.5, 4,
     [ABSTAIN, ABSTAIN], CONSENSUS),
    ("Bedenken do not block", Silence.NO_QUORUM, 0.5, 3,
     [CONCERN, CONCERN, CONCERN], CONSENSUS),
    ("R below q: 1 of 4", Silence.NO_QUORUM, 0.5, 4,
     [AGREE], NO_QUORUM),
    ("R below q: 2 of 5 (q = 3)", Silence.NO_QUORUM, 0.5, 5,
     [AGREE, AGREE], NO_QUORUM),
    ("R reaches q: 3 of 5", Silence.NO_QUORUM, 0.5, 5,
     [AGREE, ABSTAIN, AGREE], CONSENSUS),
    ("nobody responded", Silence.NO_QUORUM, 0.5, 4,
     [], NO_QUORUM),
    ("quorum 0: silence is enough", Silence.NO_QUORUM, 0.0, 4,
     [], CONSENSUS),
]  # fmt: skip


@pytest.mark.parametrize("process", [CTM, ONLY])
@pytest.mark.parametrize(
    ("silence", "quorum", "size", "choices", "outcome"),
    [row[1:] for row in ROUND_TABLE],
    ids=[row[0] for row in ROUND_TABLE],
)
def test_round_outcome_follows_the_charter_table(process, silence, quorum, size, choices, outcome):
    tally = tally_round(
        answers(*choices), members(size), policy(process, silence=silence, quorum=quorum)
    )
    assert tally.outcome is outcome


# Process consent: silence counts as consent and there is no quorum; only an Einwand blocks.
CONSENT_TABLE = [
    ("nobody responded", 4, [], CONSENSUS),
    ("one Zustimmung of many", 10, [AGREE], CONSENSUS),
    ("Bedenken and Enthaltung do not block", 3, [CONCERN, ABSTAIN], CONSENSUS),
    ("one Einwand blocks", 4, [AGREE, OBJECT], OBJECTIONS),
]


@pytest.mark.parametrize(
    ("size", "choices", "outcome"),
    [row[1:] for row in CONSENT_TABLE],
    ids=[row[0] for row in CONSENT_TABLE],
)
def test_consent_process_counts_silence_as_consent_without_quorum(size, choices, outcome):
    # The policy's silence field says no_quorum; the process consent overrides it.
    tally = tally_round(
        answers(*choices), members(size), policy(CONSENT, silence=Silence.NO_QUORUM)
    )
    assert tally.outcome is outcome


def test_round_tally_counts_every_choice_and_names_who_is_missing():
    tally = tally_round({1: AGREE, 2: CONCERN, 4: ABSTAIN}, members(5), policy())
    assert tally.counts == {AGREE: 1, CONCERN: 1, ABSTAIN: 1, OBJECT: 0}
    assert tally.responded == {1, 2, 4}
    assert tally.responses == 3
    assert tally.missing == {3, 5}
    assert tally.quorum_needed == 3
    assert tally.outcome is CONSENSUS


def test_responses_from_outside_the_electorate_do_not_count():
    # Person 9 left the team mid-round (or was never on it): their Einwand no longer blocks.
    tally = tally_round({1: AGREE, 2: AGREE, 9: OBJECT}, members(3), policy())
    assert tally.outcome is CONSENSUS
    assert tally.counts[OBJECT] == 0
    assert 9 not in tally.responded


@pytest.mark.parametrize("silence", list(Silence))
@pytest.mark.parametrize("process", ROUND_PROCESSES)
def test_an_empty_electorate_never_reaches_consensus(process, silence):
    tally = tally_round({}, frozenset(), policy(process, silence=silence))
    assert tally.outcome is NO_QUORUM


def test_majority_process_has_no_consensus_round_at_all():
    step = first_step(policy(MAJORITY), NOW)
    assert step == StartVote(NOW + timedelta(days=3))
    state, _ = new_proposal(DecisionKind.PROPOSAL, policy(MAJORITY), NOW)
    assert state.status is ProposalStatus.VOTE_OPEN
    assert state.round_number == 0
    with pytest.raises(InvalidTransition):
        after_round(state, OBJECTIONS, NOW)


@pytest.mark.parametrize("process", ROUND_PROCESSES)
def test_every_other_process_starts_with_a_consensus_round(process):
    assert first_step(policy(process), NOW) == OpenRound(NOW + timedelta(days=7))


@pytest.mark.parametrize(
    ("process", "step"),
    [(CTM, OpenRound(NOW + timedelta(hours=5))), (MAJORITY, StartVote(NOW + timedelta(hours=5)))],
)
def test_the_proposers_own_deadline_replaces_the_default(process, step):
    assert first_step(policy(process), NOW, NOW + timedelta(hours=5)) == step


# --- majority votes: SPEC §4 -------------------------------------------------------------------

# (why, quorum, electorate size, ballots of people 1.., outcome)
VOTE_TABLE = [
    ("more Ja than Nein, quorum reached", 0.5, 4, [YES, YES, NO], VoteOutcome.ACCEPTED),
    ("a tie is not a majority", 0.5, 4, [YES, NO], VoteOutcome.REJECTED),
    ("a tie with abstentions is not a majority", 0.5, 4, [YES, NO, Ballot.ABSTAIN],
     VoteOutcome.REJECTED),
    ("more Nein than Ja", 0.5, 4, [YES, NO, NO], VoteOutcome.REJECTED),
    ("Enthaltung counts toward the quorum", 0.5, 4, [YES, Ballot.ABSTAIN], VoteOutcome.ACCEPTED),
    ("Enthaltung does not count toward the majority", 0.5, 4,
     [YES, NO, Ballot.ABSTAIN, Ballot.ABSTAIN], VoteOutcome.REJECTED),
    ("only abstentions", 0.5, 2, [Ballot.ABSTAIN, Ballot.ABSTAIN], VoteOutcome.REJECTED),
    ("Ja only, but below the quorum", 0.5, 5, [YES, YES], VoteOutcome.REJECTED),
    ("Ja only, exactly the quorum", 0.5, 5, [YES, YES, YES], VoteOutcome.ACCEPTED),
    ("nobody voted", 0.5, 4, [], VoteOutcome.REJECTED),
    ("quorum 0: one Ja is enough", 0.0, 10, [YES], VoteOutcome.ACCEPTED),
]  # fmt: skip


@pytest.mark.parametrize("process", [CTM, MAJORITY])
@pytest.mark.parametrize(
    ("quorum", "size", "ballots", "outcome"),
    [row[1:] for row in VOTE_TABLE],
    ids=[row[0] for row in VOTE_TABLE],
)
def test_vote_outcome_follows_the_charter(process, quorum, size, ballots, outcome):
    tally = tally_vote(answers(*ballots), members(size), policy(process, quorum=quorum))
    assert tally.outcome is outcome


def test_silence_does_not_count_as_consent_in_a_vote():
    tally = tally_vote({1: YES}, members(4), policy(silence=Silence.CONSENT))
    assert tally.outcome is VoteOutcome.REJECTED
    assert tally.quorum_needed == 2


def test_votes_from_outside_the_electorate_are_ignored_and_counted():
    ballots = {1: NO, 2: NO, 3: YES, 7: YES, 8: YES, 9: YES}
    tally = tally_vote(ballots, members(3), policy())
    assert (tally.yes, tally.no, tally.abstain) == (1, 2, 0)
    assert tally.cast == 3
    assert tally.ignored == 3
    assert tally.outcome is VoteOutcome.REJECTED


def test_poll_options_are_ja_nein_enthaltung_in_that_order():
    assert BALLOT_OPTIONS == (Ballot.YES, Ballot.NO, Ballot.ABSTAIN)


@pytest.mark.parametrize(
    ("vote", "decision"),
    [
        (VoteOutcome.ACCEPTED, DecisionOutcome.ACCEPTED),
        (VoteOutcome.REJECTED, DecisionOutcome.REJECTED),
    ],
)
def test_a_vote_always_records_a_decision(vote, decision):
    assert after_vote(vote) == RecordDecision(decision)


@pytest.mark.parametrize(
    ("outcome", "yes"),
    [
        (DecisionOutcome.CONSENSUS, True),
        (DecisionOutcome.ACCEPTED, True),
        (DecisionOutcome.REJECTED, False),
        (DecisionOutcome.EXPIRED, False),
        (DecisionOutcome.WITHDRAWN, False),
    ],
)
def test_consensus_and_accepted_both_approve(outcome, yes):
    assert approved(outcome) is yes


# --- after a round: SPEC §3.6 --------------------------------------------------------------------

# (why, process, decision kind, round outcomes, what follows the last of them)
COURSE_TABLE = [
    ("consensus in the first round", CTM, DecisionKind.PROPOSAL, [CONSENSUS],
     RecordDecision(DecisionOutcome.CONSENSUS)),
    ("consensus in the second round", CTM, DecisionKind.PROPOSAL, [OBJECTIONS, CONSENSUS],
     RecordDecision(DecisionOutcome.CONSENSUS)),
    ("a failed first round waits for a revision", CTM, DecisionKind.PROPOSAL, [OBJECTIONS],
     AwaitRevision(NOW + timedelta(days=7, hours=48))),
    ("Kein Quorum also waits for a revision", CTM, DecisionKind.PROPOSAL, [NO_QUORUM],
     AwaitRevision(NOW + timedelta(days=7, hours=48))),
    ("settings have text to revise", CTM, DecisionKind.SETTINGS, [OBJECTIONS],
     AwaitRevision(NOW + timedelta(days=7, hours=48))),
    ("support requests have text to revise", CTM, DecisionKind.SUPPORT, [OBJECTIONS],
     AwaitRevision(NOW + timedelta(days=7, hours=48))),
    ("last round failed with Einwände: the vote starts at once", CTM, DecisionKind.PROPOSAL,
     [OBJECTIONS, OBJECTIONS], StartVote(NOW + timedelta(days=7 + 2 + 7 + 3))),
    ("last round failed for Kein Quorum: the vote starts at once", CTM, DecisionKind.PROPOSAL,
     [NO_QUORUM, NO_QUORUM], StartVote(NOW + timedelta(days=7 + 2 + 7 + 3))),
    ("consensus_only: last round failed with an Einwand", ONLY, DecisionKind.PROPOSAL,
     [OBJECTIONS, OBJECTIONS], RecordDecision(DecisionOutcome.REJECTED)),
    ("consensus_only: an Einwand in any earlier round rejects", ONLY, DecisionKind.PROPOSAL,
     [OBJECTIONS, NO_QUORUM], RecordDecision(DecisionOutcome.REJECTED)),
    ("consensus_only: an Einwand in the last round rejects", ONLY, DecisionKind.PROPOSAL,
     [NO_QUORUM, OBJECTIONS], RecordDecision(DecisionOutcome.REJECTED)),
    ("consensus_only: never an Einwand, only too little participation", ONLY,
     DecisionKind.PROPOSAL, [NO_QUORUM, NO_QUORUM], RecordDecision(DecisionOutcome.EXPIRED)),
    ("consent: a failed round waits for a revision", CONSENT, DecisionKind.PROPOSAL,
     [OBJECTIONS], AwaitRevision(NOW + timedelta(days=7, hours=48))),
    ("consent: the last round failed", CONSENT, DecisionKind.PROPOSAL, [OBJECTIONS, OBJECTIONS],
     RecordDecision(DecisionOutcome.REJECTED)),
    ("consent: consensus in the second round", CONSENT, DecisionKind.PROPOSAL,
     [OBJECTIONS, CONSENSUS], RecordDecision(DecisionOutcome.CONSENSUS)),
    ("admission: the next round opens at once", CTM, DecisionKind.ADMISSION, [OBJECTIONS],
     OpenNextRound(2, NOW + timedelta(days=14))),
    ("nomination: the next round opens at once after Kein Quorum", CTM,
     DecisionKind.NOMINATION, [NO_QUORUM], OpenNextRound(2, NOW + timedelta(days=14))),
    ("delegation: the next round opens at once", ONLY, DecisionKind.DELEGATION, [OBJECTIONS],
     OpenNextRound(2, NOW + timedelta(days=14))),
    ("admission: the last round failed, the vote starts", CTM, DecisionKind.ADMISSION,
     [OBJECTIONS, OBJECTIONS], StartVote(NOW + timedelta(days=7 + 7 + 3))),
]  # fmt: skip


@pytest.mark.parametrize(
    ("process", "kind", "outcomes", "expected"),
    [row[1:] for row in COURSE_TABLE],
    ids=[row[0] for row in COURSE_TABLE],
)
def test_what_follows_a_round(process, kind, outcomes, expected):
    _, step = proposal_after(outcomes, process, kind)
    assert step == expected


@pytest.mark.parametrize(
    ("max_rounds", "outcomes", "expected"),
    [
        (1, [NO_QUORUM], StartVote),
        (3, [NO_QUORUM, NO_QUORUM], AwaitRevision),
        (3, [NO_QUORUM, OBJECTIONS, NO_QUORUM], StartVote),
    ],
)
def test_kein_quorum_rounds_count_toward_the_maximum(max_rounds, outcomes, expected):
    state, step = proposal_after(outcomes, max_consensus_rounds=max_rounds)
    assert isinstance(step, expected)
    assert state.failed_rounds == len(outcomes)


def test_state_after_a_failed_round_counts_it_and_remembers_the_einwand():
    state, _ = proposal_after([OBJECTIONS])
    assert state.status is ProposalStatus.AWAITING_REVISION
    assert state.failed_rounds == 1
    assert state.rounds_left == 1
    assert state.any_objection_ever
    assert state.next_deadline == NOW + timedelta(days=7, hours=48)


def test_revision_window_ending_with_rounds_left_opens_next_round_by_itself():
    state, window = proposal_after([OBJECTIONS])
    step = after_revision_window(state, window.until)
    assert step == OpenNextRound(2, window.until + timedelta(days=7))
    state = advance(state, step)
    assert state.status is ProposalStatus.ROUND_OPEN
    assert state.round_number == 2
    assert state.next_deadline == window.until + timedelta(days=7)


def test_a_revision_opens_the_next_round_at_once():
    state, _ = proposal_after([NO_QUORUM])
    revised_at = NOW + timedelta(days=8)
    assert can_revise(state, actor_is_proposer=True, now=revised_at) is None
    assert after_revision(state, revised_at) == OpenNextRound(2, revised_at + timedelta(days=7))


def test_every_round_lasts_as_long_as_the_first():
    state, _ = new_proposal(DecisionKind.ADMISSION, policy(), NOW, NOW + timedelta(minutes=90))
    state, step = close_round(state, OBJECTIONS, NOW + timedelta(minutes=90))
    assert step == OpenNextRound(2, NOW + timedelta(minutes=180))


@pytest.mark.parametrize("kind", [DecisionKind.ADMISSION, DecisionKind.NOMINATION])
def test_person_decisions_open_the_next_round_at_once(kind):
    state, step = proposal_after([OBJECTIONS], CTM, kind)
    assert isinstance(step, OpenNextRound)
    assert state.status is ProposalStatus.ROUND_OPEN
    assert state.round_number == 2
    assert is_about_a_person(kind)


def test_last_allowed_round_failing_refuses_revise():
    state, step = proposal_after([OBJECTIONS, OBJECTIONS])
    assert isinstance(step, StartVote)
    assert state.status is ProposalStatus.VOTE_OPEN
    assert can_revise(state, True, state.vote_deadline - timedelta(hours=1)) is NO_ROUNDS_LEFT


@pytest.mark.parametrize(
    ("outcomes", "decision"),
    [
        ([OBJECTIONS, OBJECTIONS], DecisionOutcome.REJECTED),
        ([NO_QUORUM, NO_QUORUM], DecisionOutcome.EXPIRED),
    ],
)
def test_last_round_failing_without_fallback_closes_the_proposal(outcomes, decision):
    state, step = proposal_after(outcomes, ONLY)
    assert step == RecordDecision(decision)
    assert state.status is ProposalStatus.CLOSED
    assert state.outcome is decision
    assert state.next_deadline is None
    assert can_revise(state, True, NOW) is CLOSED


def test_pt_admission_has_no_majority_fallback():
    pt_admission = PolicyBook().resolve(TeamKind.PT, DecisionKind.ADMISSION)
    assert pt_admission.process is ONLY
    state, step = new_proposal(DecisionKind.ADMISSION, pt_admission, NOW)
    steps = [step]
    for outcome in [OBJECTIONS, OBJECTIONS]:
        assert can_request_majority(state, True) is NO_FALLBACK
        state, step = close_round(state, outcome, state.round_deadline)
        steps.append(step)
    assert not any(isinstance(s, StartVote) for s in steps)
    assert isinstance(steps[1], OpenNextRound)
    assert steps[-1] == RecordDecision(DecisionOutcome.REJECTED)


def test_pt_admission_for_too_little_participation_expires():
    pt_admission = PolicyBook().resolve(TeamKind.PT, DecisionKind.ADMISSION)
    _, step = proposal_after([NO_QUORUM, NO_QUORUM], pt_admission.process, DecisionKind.ADMISSION)
    assert step == RecordDecision(DecisionOutcome.EXPIRED)


def test_majority_vote_after_the_rounds_closes_the_proposal():
    state, _ = proposal_after([OBJECTIONS, OBJECTIONS])
    state = advance(state, after_vote(VoteOutcome.ACCEPTED))
    assert state.status is ProposalStatus.CLOSED
    assert state.outcome is DecisionOutcome.ACCEPTED


@pytest.mark.parametrize(
    ("event", "state_outcomes"),
    [
        (lambda s: after_round(s, CONSENSUS, NOW), [OBJECTIONS]),  # awaiting revision
        (lambda s: after_revision_window(s, NOW), []),  # round open
        (lambda s: after_revision(s, NOW), [OBJECTIONS, OBJECTIONS]),  # vote open
        (lambda s: after_majority_request(s, NOW), [OBJECTIONS, OBJECTIONS]),  # vote open
    ],
)
def test_events_that_cannot_happen_in_a_status_are_refused_loudly(event, state_outcomes):
    state, _ = proposal_after(state_outcomes)
    with pytest.raises(InvalidTransition):
        event(state)


# --- objections across rounds ------------------------------------------------------------------


def test_a_silent_objector_keeps_the_objection_standing():
    carried = [Objection(3, "zu teuer", 1)]
    tracked = track_objections(carried, {1: AGREE, 2: AGREE}, round_number=2)
    assert [(t.objection, t.status) for t in tracked] == [
        (Objection(3, "zu teuer", 1), ObjectionStatus.STANDS)
    ]
    assert objections_to_carry(tracked) == carried


@pytest.mark.parametrize("response", [AGREE, CONCERN, ABSTAIN])
def test_an_objection_is_resolved_when_its_author_responds_otherwise(response):
    tracked = track_objections([Objection(3, "zu teuer", 1)], {3: response}, round_number=2)
    assert tracked[0].status is ObjectionStatus.RESOLVED
    assert objections_to_carry(tracked) == []


@pytest.mark.parametrize(
    ("new_reason", "reason"),
    [("immer noch zu teuer", "immer noch zu teuer"), (None, "zu teuer")],
)
def test_objecting_again_keeps_the_objection_and_its_latest_reason(new_reason, reason):
    tracked = track_objections(
        [Objection(3, "zu teuer", 1)], {3: OBJECT}, round_number=2, reasons={3: new_reason}
    )
    assert tracked == [TrackedObjection(Objection(3, reason, 1), ObjectionStatus.STANDS)]


def test_new_objections_of_this_round_are_listed_after_the_carried_ones():
    tracked = track_objections(
        [Objection(3, "zu teuer", 1)],
        {1: AGREE, 4: OBJECT, 3: AGREE},
        round_number=2,
        reasons={4: "zu laut"},
    )
    assert [(t.objection, t.status) for t in tracked] == [
        (Objection(3, "zu teuer", 1), ObjectionStatus.RESOLVED),
        (Objection(4, "zu laut", 2), ObjectionStatus.STANDS),
    ]


def test_an_objection_without_reason_is_kept_as_such():
    tracked = track_objections([], {2: OBJECT}, round_number=1)
    assert tracked[0].objection == Objection(2, None, 1)


def test_the_objection_of_someone_who_left_is_dropped_with_their_response():
    tracked = track_objections(
        [Objection(3, "zu teuer", 1)], {5: OBJECT}, round_number=2, electorate={1, 2}
    )
    assert tracked == []


def test_a_standing_objection_of_a_silent_member_still_blocks_the_round():
    carried = [Objection(3, "zu teuer", 1)]
    tally = tally_round({1: AGREE, 2: AGREE, 4: AGREE}, members(4), policy(), carried)
    assert tally.outcome is OBJECTIONS
    assert tally.standing_objectors == {3}
    assert tally.missing == {3}  # so the reminder reaches them


@pytest.mark.parametrize("process", ROUND_PROCESSES)
def test_a_withdrawn_objection_no_longer_blocks(process):
    carried = [Objection(3, "zu teuer", 1)]
    tally = tally_round({1: AGREE, 2: AGREE, 3: AGREE}, members(4), policy(process), carried)
    assert tally.outcome is CONSENSUS
    assert tally.standing_objectors == frozenset()


def test_a_carried_objection_of_someone_who_left_no_longer_blocks():
    carried = [Objection(3, "zu teuer", 1)]
    electorate = members(4) - {3}  # 3 left the team
    tally = tally_round({1: AGREE, 2: AGREE}, electorate, policy(), carried)
    assert tally.outcome is CONSENSUS


def test_objection_that_stands_after_two_rounds_starts_majority_vote():
    electorate = members(4)
    state, _ = new_proposal(DecisionKind.PROPOSAL, policy(), NOW)

    first = {1: AGREE, 2: AGREE, 3: OBJECT}
    tally = tally_round(first, electorate, state.policy)
    tracked = track_objections([], first, 1, reasons={3: "zu teuer"})
    state, step = close_round(state, tally.outcome, state.round_deadline)
    assert isinstance(step, AwaitRevision)

    revised_at = NOW + timedelta(days=8)
    state = advance(state, after_revision(state, revised_at))
    carried = objections_to_carry(tracked)
    second = {1: AGREE, 2: AGREE, 4: AGREE}  # the objector stays silent
    tally = tally_round(second, electorate, state.policy, carried)
    tracked = track_objections(carried, second, 2)
    assert tracked[0].status is ObjectionStatus.STANDS
    state, step = close_round(state, tally.outcome, state.round_deadline)

    assert step == StartVote(revised_at + timedelta(days=7 + 3))
    assert state.status is ProposalStatus.VOTE_OPEN


def test_objection_resolved_in_the_second_round_gives_consensus():
    state, _ = proposal_after([OBJECTIONS])
    state = advance(state, after_revision_window(state, state.revision_until))
    carried = [Objection(3, "zu teuer", 1)]
    second = {1: AGREE, 2: AGREE, 3: CONCERN}
    tally = tally_round(second, members(4), state.policy, carried)
    assert track_objections(carried, second, 2)[0].status is ObjectionStatus.RESOLVED
    _, step = close_round(state, tally.outcome, state.round_deadline)
    assert step == RecordDecision(DecisionOutcome.CONSENSUS)


# --- the electorate: SPEC §3.3 -----------------------------------------------------------------


# Who is in an electorate is kept in storage (tests/test_e2e_decisions.py, test_e2e_races.py,
# test_e2e_resilience.py show it growing and shrinking); here, how it is counted.


def test_a_member_who_left_mid_round_no_longer_counts():
    responses = {1: AGREE, 4: OBJECT}
    assert tally_round(responses, members(4), policy()).outcome is OBJECTIONS

    tally = tally_round(responses, members(4) - {4}, policy())  # 4 left the team
    assert tally.quorum_needed == 2
    assert tally.outcome is NO_QUORUM  # 1 of 3; the leaver's Einwand no longer counts


@pytest.mark.parametrize(
    ("answered", "electorate", "early_close"),
    [
        ({1: AGREE, 2: AGREE, 3: OBJECT}, members(3), True),
        ({1: AGREE, 2: AGREE}, members(3), False),
        ({1: AGREE, 2: AGREE, 9: AGREE}, members(3), False),  # 9 is not in the electorate
        ({1: AGREE, 2: AGREE}, members(3) - {3}, True),  # 3 left the team
        ({1: YES, 2: NO}, members(2), True),  # votes close early the same way
        ({}, frozenset(), False),  # nobody left: wait for the deadline
    ],
)
def test_a_round_closes_early_once_everyone_responded(answered, electorate, early_close):
    assert everyone_responded(answered, electorate) is early_close


# --- what the proposer may ask for ---------------------------------------------------------------


def _state(outcomes, process=CTM, kind=DecisionKind.PROPOSAL):
    return proposal_after(outcomes, process, kind)[0]


def _vote_requested_after_first_round():
    state = _state([OBJECTIONS])
    return advance(state, after_majority_request(state, NOW + timedelta(days=8)))


def _withdrawn():
    return advance(_state([]), RecordDecision(DecisionOutcome.WITHDRAWN))


IN_WINDOW = NOW + timedelta(days=8)
AFTER_WINDOW = NOW + timedelta(days=9, hours=1)

# (why, state, actor is proposer, now, refusal)
REVISE_TABLE = [
    ("allowed within the window", lambda: _state([OBJECTIONS]), True, IN_WINDOW, None),
    ("only the proposer", lambda: _state([OBJECTIONS]), False, IN_WINDOW, NOT_PROPOSER),
    ("not after the close", _withdrawn, True, IN_WINDOW, CLOSED),
    ("a person has no text", lambda: _state([OBJECTIONS], kind=DecisionKind.ADMISSION), True,
     IN_WINDOW, NOTHING_TO_REVISE),
    ("no rounds left", lambda: _state([OBJECTIONS, OBJECTIONS]), True, IN_WINDOW,
     NO_ROUNDS_LEFT),
    ("not while the vote runs", _vote_requested_after_first_round, True, IN_WINDOW,
     VOTE_OPEN),
    ("not in a straight majority vote", lambda: _state([], MAJORITY), True, IN_WINDOW,
     VOTE_OPEN),
    ("not while a round is open", lambda: _state([]), True, NOW, ROUND_OPEN),
    ("not after the window", lambda: _state([OBJECTIONS]), True, AFTER_WINDOW,
     WINDOW_ENDED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make_state", "is_proposer", "now", "refusal"),
    [row[1:] for row in REVISE_TABLE],
    ids=[row[0] for row in REVISE_TABLE],
)
def test_who_may_revise_and_when(make_state, is_proposer, now, refusal):
    assert can_revise(make_state(), is_proposer, now) is refusal


MAJORITY_REQUEST_TABLE = [
    ("allowed after a failed round", lambda: _state([NO_QUORUM]), True, None),
    ("allowed while the next round runs", lambda: advance(
        _state([OBJECTIONS]), OpenNextRound(2, NOW + timedelta(days=16))), True, None),
    ("only the proposer", lambda: _state([OBJECTIONS]), False, NOT_PROPOSER),
    ("not after the close", _withdrawn, True, CLOSED),
    ("not while a vote runs", _vote_requested_after_first_round, True, VOTE_OPEN),
    ("not in a straight majority vote", lambda: _state([], MAJORITY), True, VOTE_OPEN),
    ("not before a round failed", lambda: _state([]), True, NO_FAILED_ROUND),
    ("consensus_only has no fallback", lambda: _state([OBJECTIONS], ONLY), True,
     NO_FALLBACK),
    ("consent has no fallback", lambda: _state([OBJECTIONS], CONSENT), True,
     NO_FALLBACK),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make_state", "is_proposer", "refusal"),
    [row[1:] for row in MAJORITY_REQUEST_TABLE],
    ids=[row[0] for row in MAJORITY_REQUEST_TABLE],
)
def test_who_may_ask_for_the_majority_vote_and_when(make_state, is_proposer, refusal):
    assert can_request_majority(make_state(), is_proposer) is refusal


def test_asking_for_the_vote_starts_it_at_once():
    state = _state([OBJECTIONS])
    step = after_majority_request(state, IN_WINDOW)
    assert step == StartVote(IN_WINDOW + timedelta(days=3))
    assert advance(state, step).status is ProposalStatus.VOTE_OPEN


WITHDRAW_TABLE = [
    ("while a round is open", lambda: _state([]), True, None),
    ("while awaiting a revision", lambda: _state([OBJECTIONS]), True, None),
    ("while the vote runs", lambda: _state([OBJECTIONS, OBJECTIONS]), True, None),
    ("only the proposer", lambda: _state([]), False, NOT_PROPOSER),
    ("not after the close", lambda: _state([CONSENSUS]), True, CLOSED),
]


@pytest.mark.parametrize(
    ("make_state", "is_proposer", "refusal"),
    [row[1:] for row in WITHDRAW_TABLE],
    ids=[row[0] for row in WITHDRAW_TABLE],
)
def test_who_may_withdraw_and_when(make_state, is_proposer, refusal):
    assert can_withdraw(make_state(), is_proposer) is refusal


def test_withdrawing_records_zurueckgezogen():
    state = _withdrawn()
    assert state.status is ProposalStatus.CLOSED
    assert state.outcome is DecisionOutcome.WITHDRAWN


# --- elections: SPEC §5 ------------------------------------------------------------------------

A, B, C, D = 11, 12, 13, 14
ELECTION_POLICY = PolicyBook().resolve(TeamKind.NET, DecisionKind.ELECTION)

# (why, seats, ballots of people 1.., elected, tied)
ELECTION_TABLE = [
    ("the most votes win", 2, [{A, B}, {A, C}, {B}, {A}], (A, B), set()),
    ("a tie for the last seat is reported, not decided", 2, [{A, B}, {A, C}, {A}], (A,), {B, C}),
    ("a tie for every seat", 1, [{A}, {B}], (), {A, B}),
    ("nobody voted for D: not elected", 3, [{A, B}, {C}], (A, B, C), set()),
    ("a ballot with too many choices is not counted", 1, [{A, B}, {C}], (C,), set()),
    ("no ballots: nobody elected", 1, [], (), set()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("seats", "ballots", "elected", "tied"),
    [row[1:] for row in ELECTION_TABLE],
    ids=[row[0] for row in ELECTION_TABLE],
)
def test_election_fills_the_seats_with_the_most_valid_votes(seats, ballots, elected, tied):
    tally = tally_election(answers(*ballots), [A, B, C, D], seats, members(10), ELECTION_POLICY)
    assert tally.elected == elected
    assert tally.tied == tied
    assert tally.seats_open == seats - len(elected)


def test_election_ignores_non_members_and_names_invalid_voters():
    ballots = {1: {A, B, C}, 2: {A}, 3: set(), 99: {B}}
    tally = tally_election(ballots, [A, B, C], 2, members(5), ELECTION_POLICY)
    assert tally.invalid_voters == {1}
    assert tally.valid == 1  # the empty ballot was retracted
    assert tally.ignored == 1
    assert tally.votes == {A: 1, B: 0, C: 0}
    assert tally.elected == (A,)


def test_election_below_a_configured_quorum_elects_nobody():
    strict = Policy(quorum=0.5)
    tally = tally_election({1: {A}}, [A, B], 1, members(4), strict)
    assert tally.quorum_needed == 2
    assert tally.elected == ()
