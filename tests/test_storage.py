"""Storage on real SQLite files: migrations, people, teams, rosters, the append-only record."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import CHARTER_TERMS
from storage import Storage
from storage.db import Database, IntegrityError, _migrations
from storage.proposals import StateChange, Transition
from storage.rounds import CarriedObjection, NewRound
from storage.teams import AlreadyBound, KindTaken
from tests.harness import database_at, place_new_database

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
async def storage(tmp_path: Path):
    await place_new_database(database_at(tmp_path))
    opened = await Storage.open(database_at(tmp_path), "Test", NOW, CHARTER_TERMS)
    yield opened
    await opened.close()


async def test_migrations_are_versioned_and_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "wiq.sqlite"
    first = await Storage.open(path, "Test", NOW, CHARTER_TERMS)
    version = await first.db.schema_version()
    assert version >= 1
    await first.close()
    second = await Storage.open(path, "Test", NOW, CHARTER_TERMS)
    assert await second.db.schema_version() == version
    rows = await second.db.fetchall("SELECT version FROM schema_migrations")
    assert len(rows) == len({row[0] for row in rows})
    await second.close()


@pytest.mark.sqlite_only
async def test_connection_uses_wal_and_foreign_keys(storage: Storage) -> None:
    assert (await storage.db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await storage.db.fetchone("PRAGMA foreign_keys"))[0] == 1
    assert (await storage.db.fetchone("PRAGMA synchronous"))[0] == 1  # NORMAL


async def test_a_renamed_network_keeps_its_record(tmp_path: Path) -> None:
    path = tmp_path / "wiq.sqlite"
    first = await Storage.open(path, "Old name", NOW, CHARTER_TERMS)
    network_id = first.network_id
    await first.close()
    second = await Storage.open(path, "New name", NOW, CHARTER_TERMS)
    assert second.network_id == network_id
    await second.close()


async def test_a_person_seen_again_is_updated_not_duplicated(storage: Storage) -> None:
    anna = await storage.people.seen(10, "Anna", None, "anna", "de", NOW)
    again = await storage.people.seen(10, "Anna", "Berg", "anna_b", "de", NOW + timedelta(1))
    assert again.id == anna.id
    assert (again.first_name, again.last_name, again.username) == ("Anna", "Berg", "anna_b")
    assert await storage.people.by_username("@ANNA_B") == again
    assert await storage.people.by_username("anna") is None


async def test_a_username_moves_to_its_new_owner(storage: Storage) -> None:
    await storage.people.seen(10, "Anna", None, "garden", "de", NOW)
    bert = await storage.people.seen(11, "Bert", None, "garden", "de", NOW)
    assert (await storage.people.by_username("garden")).id == bert.id
    assert (await storage.people.by_telegram_id(10)).username is None


async def test_one_team_per_chat_and_one_pt_per_network(storage: Storage) -> None:
    await storage.teams.bind("PT", "Projektteam", -100, "supergroup", "explicit", None, NOW)
    with pytest.raises(AlreadyBound):
        await storage.teams.bind("LT", "Garten", -100, "supergroup", "chat", None, NOW)
    with pytest.raises(KindTaken):
        await storage.teams.bind("PT", "Zweites PT", -200, "supergroup", "explicit", None, NOW)
    await storage.teams.bind("LT", "Garten", -300, "supergroup", "chat", None, NOW)
    await storage.teams.bind("LT", "Repair-Café", -400, "supergroup", "chat", None, NOW)
    assert [team.name for team in await storage.teams.by_kind("LT")] == ["Garten", "Repair-Café"]


async def test_migration_moves_the_binding_once(storage: Storage) -> None:
    team = await storage.teams.bind("ST", "ST", -5, "group", "explicit", None, NOW)
    moved = await storage.teams.move_chat(-5, -1005, NOW)
    assert moved is not None and moved.id == team.id and moved.chat_id == -1005
    assert moved.chat_type == "supergroup"
    assert await storage.teams.move_chat(-5, -1005, NOW) is None
    assert await storage.teams.by_chat(-5) is None


async def test_roster_admit_leave_and_readmit(storage: Storage) -> None:
    team = await storage.teams.bind("ST", "ST", -5, "supergroup", "explicit", None, NOW)
    admin = await storage.people.seen(1, "Admin", None, None, "de", NOW)
    anna = await storage.people.seen(10, "Anna", None, None, "de", NOW)
    assert await storage.rosters.admit(
        team.id, anna.id, "admitted", NOW, by=admin.id, seat="politik", body="SBB West"
    )
    assert not await storage.rosters.admit(team.id, anna.id, "admitted", NOW, by=admin.id)
    [member] = await storage.rosters.members(team.id)
    assert (member.seat, member.body, member.joined_by) == ("politik", "SBB West", admin.id)
    assert await storage.rosters.leave(team.id, anna.id, "removed", NOW, by=admin.id, reason="x")
    assert not await storage.rosters.leave(team.id, anna.id, "removed", NOW)
    assert await storage.rosters.size(team.id) == 0
    departure = await storage.rosters.last_departure(team.id, anna.id)
    assert departure is not None and departure.left_how == "removed"
    assert await storage.rosters.admit(team.id, anna.id, "admitted", NOW)
    assert await storage.rosters.member_ids(team.id) == {anna.id}


async def test_the_record_names_people_by_id_only_and_is_append_only(storage: Storage) -> None:
    team = await storage.teams.bind("PT", "PT", -5, "supergroup", "explicit", None, NOW)
    anna = await storage.people.seen(10, "Anna", "Secretname", "annauser", "de", NOW)
    await storage.rosters.admit(team.id, anna.id, "admitted", NOW)
    await storage.rosters.leave(team.id, anna.id, "left", NOW, by=anna.id)
    events = await storage.events.for_team(team.id)
    assert [event.kind for event in events] == ["team.bound", "roster.joined", "roster.left"]
    assert events[1].subject_id == anna.id
    dump = "\n".join(str(tuple(row)) for row in await storage.db.fetchall("SELECT * FROM events"))
    for personal in ("Anna", "Secretname", "annauser", "10,"):
        assert personal not in dump
    with pytest.raises(IntegrityError, match="append-only"):
        await storage.db.execute("DELETE FROM events")
    with pytest.raises(IntegrityError, match="append-only"):
        await storage.db.execute("UPDATE events SET kind = 'x'")


async def test_a_failed_transaction_changes_nothing(storage: Storage) -> None:
    with pytest.raises(RuntimeError):
        async with storage.db.transaction() as tx:
            await tx.execute("INSERT INTO networks (name, created_at) VALUES ('Other', '2026')")
            raise RuntimeError("boom")
    assert await storage.db.fetchone("SELECT 1 FROM networks WHERE name = 'Other'") is None


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "wiq.sqlite"
    first = await Storage.open(path, "Test", NOW, CHARTER_TERMS)
    team = await first.teams.bind("KT", "Kernteam", -7, "supergroup", "explicit", None, NOW)
    anna = await first.people.seen(10, "Anna", None, "anna", "de", NOW)
    await first.rosters.admit(team.id, anna.id, "admitted", NOW)
    await first.close()
    second = await Storage.open(path, "Test", NOW, CHARTER_TERMS)
    assert (await second.teams.by_chat(-7)).name == "Kernteam"
    assert [m.person.username for m in await second.rosters.members(team.id)] == ["anna"]
    await second.close()


async def _round_of(storage: Storage, kind: str = "ST", chat_id: int = -5) -> tuple[int, int]:
    """A team with one member, Anna, and a proposal whose first round is open."""
    team = await storage.teams.bind(kind, kind, chat_id, "supergroup", "explicit", None, NOW)
    anna = await storage.people.seen(10, "Anna", None, None, "de", NOW)
    await storage.rosters.admit(team.id, anna.id, "admitted", NOW)
    _, applied = await storage.proposals.create(
        team_id=team.id,
        kind="proposal",
        proposer_id=anna.id,
        subject_id=None,
        title="Budget",
        text="Budget",
        policy={},
        round_length_s=86400,
        first=Transition(
            StateChange("round_open", 1, 0, False),
            "proposal.created",
            new_round=NewRound(1, "Budget", NOW + timedelta(days=1)),
        ),
        now=NOW,
    )
    assert applied.round_id is not None
    return applied.round_id, anna.id


async def test_a_reason_stays_while_the_response_is_an_objection_or_a_concern(
    storage: Storage,
) -> None:
    round_id, anna = await _round_of(storage)
    rounds = storage.rounds
    assert await rounds.record_response(round_id, anna, "object", 1, NOW)
    assert (await storage.reasons.set_reason(round_id, anna, "zu teuer", NOW, team_id=1)).attached
    assert await rounds.record_response(round_id, anna, "concern", 2, NOW)
    assert (await rounds.responses(round_id))[anna].reason == "zu teuer"
    assert await rounds.record_press(round_id, -5, anna, "agree", 3, NOW) is not None
    assert (await rounds.responses(round_id))[anna].reason is None
    assert not (
        await storage.reasons.set_reason(round_id, anna, "doch nicht", NOW, team_id=1)
    ).attached


async def _next_round(storage: Storage, round_id: int, anna: int, reason: str | None) -> int:
    """Round 1 closes with Anna's Einwand; round 2 opens carrying it with `reason`."""
    applied = await storage.proposals.transition(
        1,
        "round_open",
        1,
        Transition(
            StateChange("round_open", 2, 1, True),
            "round.closed",
            (round_id, "objections"),
            new_round=NewRound(
                2, "Budget", NOW + timedelta(days=2), (CarriedObjection(anna, reason, 1),)
            ),
        ),
        None,
        NOW,
    )
    assert applied is not None and applied.round_id is not None
    return applied.round_id


async def test_a_reason_after_the_close_reaches_the_objection_the_next_round_carries(
    storage: Storage,
) -> None:
    round_id, anna = await _round_of(storage)
    rounds = storage.rounds
    assert await rounds.record_response(round_id, anna, "object", 1, NOW)
    second = await _next_round(storage, round_id, anna, None)
    later = NOW + timedelta(minutes=1)
    stored = await storage.reasons.set_reason(round_id, anna, "zu teuer", later, team_id=1)
    assert stored.attached and stored.after_close and stored.carried_into == (second,)
    assert (await rounds.responses(round_id))[anna].reason_at == later
    assert [c.reason for c in await rounds.carried(second)] == ["zu teuer"]
    [event] = [e for e in await storage.events.for_team(1) if e.kind == "round.reason"]
    assert event.data == {
        "after_close": True,
        "carried_into": [second],
        "choice": "object",
        "reason": "zu teuer",
        "round": round_id,
    }


async def test_a_reason_stored_while_the_next_round_opens_is_what_that_round_carries(
    storage: Storage,
) -> None:
    """The reason came after the flow read round 1 and before round 2's transaction: the
    copy handed in has none; what is stored wins."""
    round_id, anna = await _round_of(storage)
    rounds = storage.rounds
    assert await rounds.record_response(round_id, anna, "object", 1, NOW)
    assert await rounds.claim_round(round_id, NOW)
    assert (
        await storage.reasons.set_reason(round_id, anna, "zu teuer", NOW, team_id=1)
    ).after_close
    second = await _next_round(storage, round_id, anna, None)
    assert [c.reason for c in await rounds.carried(second)] == ["zu teuer"]


async def test_no_reason_is_stored_once_the_proposal_is_decided(storage: Storage) -> None:
    round_id, anna = await _round_of(storage)
    rounds = storage.rounds
    assert await rounds.record_response(round_id, anna, "concern", 1, NOW)
    await storage.reasons.ask_reason(anna, round_id, NOW)
    decided = StateChange("closed", 1, 0, False, outcome="consensus")
    assert await storage.proposals.transition(
        1,
        "round_open",
        1,
        Transition(decided, "proposal.closed", (round_id, "consensus")),
        anna,
        NOW,
    )
    stored = await storage.reasons.set_reason(round_id, anna, "knapp", NOW, team_id=1)
    assert stored.decided and not stored.attached
    assert (await rounds.responses(round_id))[anna].reason is None
    assert (
        await storage.reasons.pending_reason(anna) is None
    )  # the question is answered all the same


async def test_only_a_decision_ends_a_teams_setup_phase(storage: Storage) -> None:
    round_id, anna = await _round_of(storage)
    expired = StateChange("closed", 1, 1, False, outcome="expired")
    applied = await storage.proposals.transition(
        1,
        "round_open",
        1,
        Transition(expired, "proposal.closed", (round_id, "no_quorum")),
        anna,
        NOW,
    )
    assert applied is not None
    assert (await storage.teams.by_chat(-5)).in_setup_phase
    round_id, anna = await _round_of(storage, "PT", -6)
    decided = StateChange("closed", 1, 0, False, outcome="consensus")
    await storage.proposals.transition(
        2,
        "round_open",
        1,
        Transition(decided, "proposal.closed", (round_id, "consensus")),
        anna,
        NOW,
    )
    assert not (await storage.teams.by_chat(-6)).in_setup_phase


async def test_a_nomination_is_approved_once_both_teams_said_yes(storage: Storage) -> None:
    nominations = storage.nominations
    first = await nominations.create("UT", None, "bert", None, NOW)
    assert (await nominations.record_team_outcome(first.id, "PT", "consensus", NOW)) is not None
    approved = await nominations.record_team_outcome(first.id, "ST", "accepted", NOW)
    assert approved is not None and approved.both_approved_at == NOW
    second = await nominations.create("KT", None, "carl", None, NOW)
    await nominations.record_team_outcome(second.id, "PT", "accepted", NOW)
    refused = await nominations.record_team_outcome(second.id, "ST", "rejected", NOW)
    assert refused is not None and refused.both_approved_at is None


async def test_a_statement_on_its_own_never_runs_inside_another_transaction(
    tmp_path: Path,
) -> None:
    """A write or read on its own waits while a transaction is open, and is not undone when
    that transaction rolls back; with none open it goes straight through."""
    db = Database(tmp_path / "order.sqlite")
    await db.open()
    try:
        await db.change("CREATE TABLE t (v INTEGER)")
        await db.change("INSERT INTO t VALUES (0)")  # none open: at once
        inside, release = asyncio.Event(), asyncio.Event()

        async def fails_halfway() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")
                inside.set()
                await release.wait()
                raise RuntimeError("rolled back")

        transaction = asyncio.create_task(fails_halfway())
        await inside.wait()
        alone = asyncio.create_task(db.change("INSERT INTO t VALUES (2)"))
        seen = asyncio.create_task(db.fetchall("SELECT v FROM t ORDER BY v"))
        await asyncio.sleep(0.05)
        assert not alone.done() and not seen.done()  # they wait for the transaction
        release.set()
        with pytest.raises(RuntimeError):
            await transaction
        assert await alone == 1
        assert [row[0] for row in await seen] == [0, 2]  # 1 was rolled back, 2 was not
    finally:
        await db.close()


async def test_a_database_of_schema_12_keeps_its_anliegen_under_their_new_names(
    tmp_path: Path,
) -> None:
    """Migration 013 renames the Anliegen tables (concerns -> petitions): every row, every
    message and the link between them survive, and the PT's replies still find the sender."""
    path = tmp_path / "wiq.sqlite"
    at = "2026-11-01T00:00:00+00:00"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for version, name, sql in _migrations():
        if version > 12:
            break
        old.executescript(
            f"BEGIN;\n{sql}\n"
            f"INSERT INTO schema_migrations VALUES ({version}, '{name}', '{at}');\nCOMMIT;"
        )
    old.executescript(
        f"""
        INSERT INTO networks (id, name, created_at) VALUES (1, 'Test', '{at}');
        INSERT INTO people (id, network_id, telegram_id, first_name, pseudonym,
            first_seen_at, last_seen_at) VALUES (7, 1, 4242, 'Eve', 'p-7', '{at}', '{at}');
        INSERT INTO concerns (id, network_id, sender_id, text, anonymous, status, created_at)
            VALUES (3, 1, 7, 'Bitte mehr Offenheit.', 1, 'posted', '{at}');
        INSERT INTO concern_messages (concern_id, side, chat_id, message_id, at)
            VALUES (3, 'team', -100, 55, '{at}');
        """
    )
    old.close()

    storage = await Storage.open(path, "Test", NOW, CHARTER_TERMS)
    try:
        assert await storage.db.schema_version() >= 13
        petition = await storage.petitions.by_team_message(-100, 55)
        assert petition is not None
        assert (petition.id, petition.sender_id, petition.text) == (3, 7, "Bitte mehr Offenheit.")
        assert petition.anonymous
    finally:
        await storage.close()
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"petitions", "petition_messages"} <= tables
        assert not {"concerns", "concern_messages"} & tables
    finally:
        check.close()


async def test_each_network_numbers_its_proposals_elections_and_anliegen_from_one(
    tmp_path: Path,
) -> None:
    """The `number` a network's people see (#1, Wahl #1, Anliegen #1) counts that network's
    rows only, however the ids run across the deployment (migration 029's trigger, on both
    backends); the id stays the row's."""
    nord, sued = await Storage.open_networks(
        database_at(tmp_path), ["Nord", "Süd"], NOW, CHARTER_TERMS
    )
    try:
        await _round_of(nord, chat_id=-5)  # Nord's proposal: id 1
        await _round_of(sued, chat_id=-6)  # Süd's: id 2, and its #1
        numbers: dict[int, list[tuple[int, int]]] = {nord.network_id: [], sued.network_id: []}
        for storage, chat in ((nord, -5), (nord, -5), (sued, -6), (nord, -5)):
            team = await storage.teams.by_chat(chat)
            anna = await storage.people.by_telegram_id(10)
            assert team is not None and anna is not None
            election_id = await storage.elections.create(
                team.id, 1, anna.id, [(anna.id, None)], NOW, None, NOW
            )
            election = await storage.elections.get(election_id)
            petition = await storage.petitions.start(anna.id, "Mehr Licht", NOW)
            assert election is not None
            numbers[storage.network_id].append((election.number, petition.number))
        assert numbers[nord.network_id] == [(1, 1), (2, 2), (3, 3)]
        assert numbers[sued.network_id] == [(1, 1)]
        (own,) = await sued.proposals.open_proposals()
        assert (own.number, own.id) == (1, 2), "Süd's first proposal is #1, its id the second"
        found = await sued.proposals.numbered(1)
        assert found is not None and found.id == own.id
        assert await sued.proposals.numbered(2) is None
        assert await sued.proposals.number_of(1) == "?", "Nord's proposal is not Süd's"
        assert await nord.proposals.number_of(1) == 1
    finally:
        await nord.close()
