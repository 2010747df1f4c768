"""End to end: deadlines as people type them (`/vorschlag morgen …`, `/vorschlag 3 Tage …`),
near misses refused instead of taken into the title, commands typed with umlauts
(`/überarbeiten 1 …`), and the dates the bot shows: one format in the card, the reminder, the
result and the export, with the timezone named where the reader may be elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.texts.i18n import t
from localapi.records import MessageRec
from tests.harness import ADMIN, ANNA, BERT, CARL, DORA, ST, DecisionSteps, Harness, Teams

HOUR = 3600
DAY = 24 * HOUR
# The manual clock starts on Monday, 2 November 2026, 08:00 UTC: 09:00 in Berlin (CET).


def title_on(card: MessageRec) -> str:
    """The card's title: its first bold text after the header line."""
    text = card.text or ""
    raw = text.encode("utf-16-le")
    header_end = len(text.split("\n", 1)[0].encode("utf-16-le")) // 2
    for entity in card.entities:
        if entity["type"] == "bold" and entity["offset"] > header_end:
            start, end = entity["offset"] * 2, (entity["offset"] + entity["length"]) * 2
            return raw[start:end].decode("utf-16-le")
    raise AssertionError(f"no bold title on the card: {text}")


def captions(h: Harness) -> list[str]:
    return [str(c.params["caption"]) for c in h.model.calls if c.params.get("caption")]


def no_card(h: Harness) -> bool:
    return not any(m.reply_markup for m in h.model.bot_messages(ST))


# --- deadlines people type --------------------------------------------------------------------


async def test_vorschlag_morgen_runs_until_the_end_of_tomorrow_with_a_clean_title(
    team: Teams,
) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/vorschlag morgen Neue Bänke für den Hof")
    card = d.card(ST, 1)
    assert title_on(card) == "Neue Bänke für den Hof"
    assert "Frist: Di., 03.11.2026, 23:59 Uhr" in (card.text or "")
    proposal = await h.services.storage.proposals.get(1)
    assert proposal is not None and proposal.title == "Neue Bänke für den Hof"
    await h.due(DAY + 14 * HOUR + 58 * 60)  # 23:58 on Tuesday: still open
    assert d.card(ST, 1).reply_markup is not None
    await h.due(2 * 60)
    assert d.card(ST, 1).reply_markup is None


async def test_vorschlag_3_tage_runs_three_days_with_a_clean_title(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/vorschlag 3 Tage Saatgut für 80 € kaufen\nFür alle Beete.")
    card = d.card(ST, 1)
    assert title_on(card) == "Saatgut für 80 € kaufen"
    assert "3 Tage" not in (card.text or "")
    assert "Frist: Do., 05.11.2026, 09:00 Uhr" in (card.text or "")
    await h.due(3 * DAY - 60)
    assert d.card(ST, 1).reply_markup is not None
    await h.due(61)
    assert d.card(ST, 1).reply_markup is None


async def test_a_date_with_a_time_in_front_is_one_deadline(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/vorschlag 01.12.2026 18:00 Adventsfeier im Hof")
    card = d.card(ST, 1)
    assert title_on(card) == "Adventsfeier im Hof"
    assert "Frist: Di., 01.12.2026, 18:00 Uhr" in (card.text or "")


async def test_what_looks_like_a_deadline_but_is_none_is_refused_and_nothing_is_proposed(
    team: Teams,
) -> None:
    h, _ = await team("ST")
    for typed, expected in (
        ("/vorschlag morgn Neue Bänke", "meintest du „morgen“?"),
        ("/vorschlag 3 Tagn Neue Bänke", "meintest du „3 Tagen“?"),
        ("/vorschlag 32.13. Neue Bänke", "„32.13.“ gibt es im Kalender nicht"),
        ("/vorschlag 12/1 Neue Bänke", "12/1 ist bei uns der 12. Januar"),
        ("/vorschlag 60 Wochen Neue Bänke", "höchstens 1 Jahr"),
        ("/vorschlag 01.05.2026 Neue Bänke", "in der Vergangenheit"),
    ):
        answer = await h.say(ST, ANNA, typed)
        assert answer is not None and expected in (answer.text or ""), (typed, answer)
    assert no_card(h)
    assert await h.services.storage.proposals.get(1) is None


async def test_a_text_that_merely_starts_with_a_number_has_no_deadline(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/vorschlag 3 neue Bänke für den Hof")
    card = d.card(ST, 1)
    assert title_on(card) == "3 neue Bänke für den Hof"
    assert "Frist: Mo., 09.11.2026, 09:00 Uhr" in (card.text or "")  # the policy's 7 days


async def test_the_usage_explains_the_forms_people_type(team: Teams) -> None:
    h, _ = await team("ST")
    answer = await h.say(ST, ANNA, "/vorschlag")
    assert answer is not None
    for form in ("morgen", "3 Tage", "3d = 3 Tage", "2 Wochen", "1.12.", "01.12.2026 18:00"):
        assert form in (answer.text or ""), form


async def test_an_english_network_reads_english_deadlines_and_shows_day_before_month(
    team: Teams,
) -> None:
    h, d = await team("ST", language="en")
    await h.say(ST, ANNA, "/propose tomorrow New benches for the yard")
    card = d.card(ST, 1).text or ""
    assert title_on(d.card(ST, 1)) == "New benches for the yard"
    assert "Deadline: Tue 3 Nov 2026, 23:59" in card
    await h.say(ST, ANNA, "/propose 3 days Seeds for the beds")
    card = d.card(ST, 2).text or ""
    assert title_on(d.card(ST, 2)) == "Seeds for the beds"
    assert "Deadline: Thu 5 Nov 2026, 09:00" in card
    answer = await h.say(ST, ANNA, "/propose 12/1 Winter party")
    # the refusal shows the forms that work, with the command typed (a next step to send)
    assert answer is not None and "day first" in (answer.text or "")
    assert "/propose 1 Dec …" in (answer.text or "")
    answer = await h.say(ST, ANNA, "/propose")
    assert answer is not None and "3d = 3 days" in (answer.text or "")


# --- the dates the bot shows ------------------------------------------------------------------


async def test_the_card_the_reminder_and_the_result_show_one_readable_date(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/vorschlag 3 Tage Neues Logo")
    readable = "Do., 05.11.2026, 09:00 Uhr"
    assert f"Frist: {readable}" in (d.card(ST, 1).text or "")
    await d.press(ST, 1, BERT, "object")
    await h.due(2 * DAY + 1)  # the reminder, 24 h before the close
    [reminder] = [text for text in h.bot_texts(ST) if "Erinnerung" in text]
    assert f"endet am {readable}." in reminder
    await h.due(DAY)  # the round fails on Bert's Einwand: 48 h to revise
    result = h.last_text(ST)
    assert "bis Sa., 07.11.2026, 09:00 Uhr mit /ueberarbeiten 1" in result
    listed = await h.say(ST, CARL, "/offen")
    assert listed is not None and "wartet auf Überarbeitung bis Sa., 07.11.2026, 09:00 Uhr" in (
        listed.text or ""
    )


async def test_a_deadline_across_the_end_of_summer_time_shows_the_wall_clock(
    team: Teams,
) -> None:
    # Saturday 24 October 2026, 12:00 CEST; the clocks go back on Sunday night.
    h, d = await team("ST", start=datetime(2026, 10, 24, 10, 0, tzinfo=UTC))
    await h.say(ST, ANNA, "/vorschlag 3 Tage Herbstputz")
    assert "Frist: Di., 27.10.2026, 11:00 Uhr" in (d.card(ST, 1).text or "")  # 72 h later, CET
    await h.say(ST, ANNA, "/vorschlag morgen Laub rechen")
    assert "Frist: So., 25.10.2026, 23:59 Uhr" in (d.card(ST, 2).text or "")


async def test_a_private_chat_names_the_timezone(team: Teams) -> None:
    h, _ = await team("ST")
    await h.say(ST, ANNA, "/vorschlag 3 Tage Neues Logo")
    h.model.start_bot(ADMIN)
    await h.settle()
    await h.say(ADMIN, ADMIN, "/export")
    assert "Stand Mo., 02.11.2026, 09:00 Uhr MEZ)" in captions(h)[0]
    await h.say(ST, ANNA, "/export")  # in the team's chat, everyone is in the network's zone
    assert "Stand Mo., 02.11.2026, 09:00 Uhr)" in captions(h)[1]


# --- commands typed with umlauts --------------------------------------------------------------


async def failed_round(h: Harness, d: DecisionSteps) -> None:
    await h.say(ST, ANNA, "/vorschlag 1d Neues Logo")
    await d.press(ST, 1, BERT, "object")
    await h.due(DAY + 1)


async def test_ueberarbeiten_with_an_umlaut_revises_in_the_group(team: Teams) -> None:
    h, d = await team("ST")
    await failed_round(h, d)
    await h.say(ST, ANNA, "/überarbeiten 1 Neues Logo, in Grün")
    card = d.card(ST, 1, round_number=2)
    assert title_on(card) == "Neues Logo, in Grün"
    await h.say(ST, ANNA, "/Zurückziehen 1")
    proposal = await h.services.storage.proposals.get(1)
    assert proposal is not None and proposal.status == "closed"
    decided = await h.say(ST, DORA, "/beschlüsse")
    assert decided is not None and "#1 „Neues Logo“" in (decided.text or "")
    digest = await h.say(ST, DORA, "/rückblick")
    assert digest is not None and "Wochenrückblick" in (digest.text or "")


async def test_umlaut_commands_in_a_private_chat_answer_as_their_ascii_names(
    team: Teams,
) -> None:
    h, _ = await team("ST")
    h.model.start_bot(ANNA)
    await h.settle()
    spelt_out = await h.say(ANNA, ANNA, "/ueberarbeiten 1 Neues Logo")
    with_umlaut = await h.say(ANNA, ANNA, "/überarbeiten 1 Neues Logo")
    assert spelt_out is not None and with_umlaut is not None
    assert with_umlaut.text == spelt_out.text == t("de", "error.group_only")


async def test_an_umlaut_word_that_is_no_command_gets_the_spelling_kindly(team: Teams) -> None:
    h, _ = await team("ST")
    h.model.start_bot(ANNA)
    await h.settle()
    for chat in (ANNA, ST):
        answer = await h.say(chat, ANNA, "/grüße an alle")
        assert answer is not None, chat
        text = answer.text or ""
        assert "/grüße" in text and "ohne Umlaute" in text and "/ueberarbeiten" in text
    assert no_card(h)
