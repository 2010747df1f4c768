"""End to end: the edges found in review — closes racing presses, crashes after a commit,
empty electorates, removals that stick, plain-text alerts, stale presses."""

from __future__ import annotations

from pathlib import Path

from bot.charter.outcomes import Response
from bot.flows.decisions import PressResult
from tests.harness import ADMIN, ANNA, BERT, CARL, DORA, EVE, LT, ST, DecisionSteps, Harness
from tests.test_e2e_resilience import due, setup_team


async def test_a_press_during_a_close_is_refused_not_silently_dropped(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path)
    try:
        await h.say(ST, ANNA, "/propose 1d Budget")
        for user in (ANNA, BERT, CARL):
            await d.press(ST, 1, user, "agree")
        store, decisions = h.services.storage.proposals, h.services.decisions
        round_ = await store.current_round(1)
        dora = await h.services.storage.people.by_telegram_id(DORA)
        real_carried, seen = store.carried, {}

        async def press_meanwhile(round_id: int):  # the close is working out its result
            if "press" not in seen:
                seen["press"] = await decisions.press(
                    round_.id, ST, DORA, dora.id, Response.OBJECT, 10**9
                )
            return await real_carried(round_id)

        store.carried = press_meanwhile
        h.clock.advance(86400 + 1)
        await decisions.on_deadline(1)
        store.carried = real_carried
        await h.settle()
        assert seen["press"].result is PressResult.CLOSED
        assert dora.id not in await store.responses(round_.id)
        assert (await store.get(1)).outcome == "consensus"
    finally:
        await h.stop()


async def test_a_round_everyone_left_waits_for_its_deadline(tmp_path: Path) -> None:
    h, _ = await setup_team(tmp_path)
    try:
        await h.say(ST, ANNA, "/propose 2d Budget")
        for user in (ANNA, BERT, CARL, DORA):
            await h.say(ST, user, "/leave")
        round_ = await h.services.storage.proposals.current_round(1)
        assert round_.closed_at is None
        await due(h, 2 * 86400 + 1)
        assert (await h.services.storage.proposals.current_round(1)).outcome == "no_quorum"
    finally:
        await h.stop()


async def test_a_vote_closed_just_before_a_crash_is_announced_after_the_restart(
    tmp_path: Path,
) -> None:
    h, d = await setup_team(tmp_path, extra="[policy.ST]\nmax_consensus_rounds = 1\n")
    try:
        await h.say(ST, ANNA, "/propose 1d Budget")
        await d.press(ST, 1, BERT, "object")
        await due(h, 86400 + 1)  # the only round failed: the vote starts
        poll = next(m.poll for m in h.model.bot_messages(ST) if m.poll)
        h.model.answer_poll(poll.id, ANNA, [0])
        h.model.answer_poll(poll.id, CARL, [0])
        await h.settle()
        # The stopPoll fails; the result queues behind it; then the process "dies".
        h.model.fail_next("stopPoll", network_error=True)
        h.clock.advance(3 * 86400 + 1)
        await h.services.decisions.run_due()
        assert not any("Mehrheitsabstimmung zu #1" in t for t in h.bot_texts(ST))
    finally:
        await h.stop()
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        assert again.model.polls[poll.id].is_closed
        results = [t for t in again.bot_texts(ST) if "Mehrheitsabstimmung zu #1" in t]
        assert len(results) == 1 and "Angenommen" in results[0]
    finally:
        await again.stop()
    third = Harness(h.model, h.config, clock=h.clock)  # and not twice
    await third.start()
    try:
        assert len([t for t in third.bot_texts(ST) if "Mehrheitsabstimmung zu #1" in t]) == 1
    finally:
        await third.stop()


async def test_a_removal_sticks_in_a_chat_mode_lt(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path, chat_id=LT, kind="LT")
    try:
        people, rosters = h.services.storage.people, h.services.storage.rosters
        bert = await people.by_telegram_id(BERT)
        team = await h.services.storage.teams.by_chat(LT)
        h.model.member_joins(LT, ADMIN)
        await h.settle()
        await h.say(LT, ADMIN, "/remove @bert stört")
        await h.say(LT, BERT, "Hallo wieder")
        assert not await rosters.is_member(team.id, bert.id)
        await h.say(LT, ANNA, "/propose 1d Etwas")
        answer = await d.press(LT, 1, BERT, "agree")
        assert "nicht auf der Mitgliederliste" in answer["text"]
        assert not await rosters.is_member(team.id, bert.id)
    finally:
        await h.stop()


async def test_alerts_are_plain_text_within_telegrams_limit(tmp_path: Path) -> None:
    h, _ = await setup_team(tmp_path, chat_id=LT, kind="LT")
    try:
        team = await h.services.storage.teams.by_chat(LT)
        await h.services.storage.db.execute(
            "UPDATE teams SET name = ?, roster_mode = 'explicit' WHERE id = ?",
            ("Garten & Hof " + "&" * 50, team.id),
        )
        await h.services.storage.rosters.admit(
            team.id,
            (await h.services.storage.people.by_telegram_id(ANNA)).id,
            "admitted",
            h.clock.now(),
        )
        await h.say(LT, ANNA, "/propose 1d Etwas")
        answer = await DecisionSteps(h).press(LT, 1, EVE, "agree")
        assert "Garten & Hof" in answer["text"] and "&amp;" not in answer["text"]
        assert len(answer["text"]) <= 200
    finally:
        await h.stop()


async def test_an_older_press_is_not_shown_as_saved(tmp_path: Path) -> None:
    h, _ = await setup_team(tmp_path)
    try:
        await h.say(ST, ANNA, "/propose 1d Etwas")
        round_ = await h.services.storage.proposals.current_round(1)
        bert = await h.services.storage.people.by_telegram_id(BERT)
        decisions = h.services.decisions
        await decisions.press(round_.id, ST, BERT, bert.id, Response.AGREE, 50)
        # An older press that arrives late never overwrites the newer one, and says so.
        older = await decisions.press(round_.id, ST, BERT, bert.id, Response.OBJECT, 49)
        assert older.result is PressResult.STALE
        stored = await h.services.storage.proposals.responses(round_.id)
        assert stored[bert.id].choice == "agree"
    finally:
        await h.stop()


async def test_withdrawing_during_a_vote_stops_counting_ballots(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path)
    try:
        await h.say(ST, ANNA, "/propose 1d Etwas")
        await d.press(ST, 1, BERT, "object")
        await due(h, 86400 + 1)
        await h.say(ST, ANNA, "/majority 1")
        poll = next(m.poll for m in h.model.bot_messages(ST) if m.poll)
        await h.say(ST, ANNA, "/withdraw 1")
        assert poll.is_closed
        vote = await h.services.storage.proposals.vote_of(1)
        assert vote.closed_at is not None
        assert await h.services.storage.proposals.ballots(vote.id) == {}
    finally:
        await h.stop()


async def test_a_revised_long_text_is_posted_in_full_for_the_next_round(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path)
    try:
        await h.say(ST, ANNA, "/propose 1d Kurz")
        await d.press(ST, 1, BERT, "object")
        await due(h, 86400 + 1)
        long_text = "Neu\n" + "Ausführlich begründet. " * 100
        await h.say(ST, ANNA, f"/revise 1 {long_text}")
        full = [m for m in h.model.bot_messages(ST) if "Ganzer Text von Vorschlag #1" in m.text]
        assert len(full) == 1 and "Ausführlich" in full[0].text
        card = d.card(ST, 1, round_number=2)
        assert f"/{full[0].message_id}" in str(card.entities)
    finally:
        await h.stop()


async def test_someone_admitted_mid_round_takes_part_from_the_next(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path, chat_id=-5005, kind="KT")
    try:
        await h.say(-5005, ANNA, "/propose 1d Etwas")
        h.model.send_message(-5005, EVE, "Hallo")
        await h.settle()
        await h.admit(-5005, "eve")  # still the set-up phase: no decision taken yet
        answer = await d.press(-5005, 1, EVE, "agree")
        assert "ab der nächsten" in answer["text"]
    finally:
        await h.stop()
