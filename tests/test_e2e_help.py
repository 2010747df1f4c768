"""Help that fits (issue 12.6): /start and /help give a short list of the commands that fit
this chat (its kind of team) and this person, by the names the chat's language uses, and the
way to the rest (/hilfe alle)."""

from __future__ import annotations

from tests.harness import ANNA, BERT, EVE, LT, PT, Teams

MAX_SHORT_LINES = 12  # intro, where, a blank line, the short list, "mehr: /hilfe alle"


def commands_in(text: str) -> list[str]:
    """The first name on each command line of a /help."""
    return [line.split()[0] for line in text.splitlines() if line.startswith("/")]


async def test_a_german_team_chat_gets_a_short_list_with_german_names(team: Teams) -> None:
    h, _ = await team("PT", (ANNA, BERT))
    reply = await h.say(PT, ANNA, "/hilfe")
    assert reply is not None and reply.text
    text = reply.text
    listed = commands_in(text)
    assert listed[:3] == ["/vorschlag", "/offen", "/beschluesse"]
    assert "/propose" not in text and "/open" not in text.split()
    assert "/nominieren" in listed  # the PT nominates
    assert "/unterstuetzung" not in text and "/einstellungen" not in text  # LTs only
    assert "/hilfe alle" in text.splitlines()[-1]
    assert len(text.splitlines()) <= MAX_SHORT_LINES


async def test_help_all_lists_the_rest_with_the_english_names_after(team: Teams) -> None:
    h, _ = await team("PT", (ANNA, BERT))
    short = await h.say(PT, ANNA, "/hilfe")
    everything = await h.say(PT, ANNA, "/hilfe alle")
    assert short is not None and everything is not None and everything.text
    assert len(commands_in(everything.text)) > len(commands_in(short.text or ""))
    assert "/ueberarbeiten · /revise –" in everything.text
    assert "/vorschlag · /propose –" in everything.text
    assert "/hilfe alle" not in everything.text


async def test_a_solution_team_sees_its_own_commands(team: Teams) -> None:
    h, _ = await team("LT", (ANNA, BERT))
    reply = await h.say(LT, BERT, "/hilfe")
    assert reply is not None
    listed = commands_in(reply.text or "")
    assert "/unterstuetzung" in listed and "/einstellungen" in listed
    assert "/nominieren" not in listed


async def test_someone_off_the_roster_is_not_offered_to_propose(team: Teams) -> None:
    h, _ = await team("PT", (ANNA, BERT))
    reply = await h.say(PT, EVE, "/hilfe alle")
    assert reply is not None
    listed = commands_in(reply.text or "")
    assert "/offen" in listed and "/mitglieder" in listed
    assert "/vorschlag" not in listed and "/austreten" not in listed


async def test_start_in_a_private_chat_offers_the_private_commands(team: Teams) -> None:
    h = await team.bot()
    h.model.start_bot(EVE)
    await h.settle()
    text = h.bot_texts(EVE)[-1]
    listed = commands_in(text)
    assert "/anliegen" in listed and "/meinedaten" in listed
    assert "/vorschlag" not in text
    assert "/hilfe alle" in text


async def test_an_english_network_gets_english_names(team: Teams) -> None:
    h, _ = await team("PT", (ANNA, BERT), language="en")
    reply = await h.say(PT, ANNA, "/help")
    assert reply is not None and reply.text
    listed = commands_in(reply.text)
    assert listed[:3] == ["/propose", "/open", "/decisions"]
    assert "/vorschlag" not in reply.text
    assert "/help all" in reply.text
