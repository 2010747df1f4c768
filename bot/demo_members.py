"""The demo's second part (`wiq-bot demo`, after the steering team's Beschluss): what every
member does besides responding and voting — a new proposal, `/offen` in the team chat and
privately, the Wochenrückblick on Monday morning (the bot's own due work at the digest's
time), an Anliegen to the Projektteam, `/meinedaten` and `/vergessen`.

The scenes run on the `Demo` of `bot.demo` with its helpers; this module only adds the
Projektteam's chat, the words people write, and the scenes' headings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.texts.i18n import t

if TYPE_CHECKING:
    from bot.demo import Demo

# The Projektteam's chat (the steering team's is bot.demo.ST).
PT = -1001000000001

SCRIPT: dict[str, dict[str, Any]] = {
    "de": {
        "propose": (
            "/vorschlag 7 Tage Aushänge für das Straßenfest\n"
            "Wir drucken 80 Aushänge für die Hausflure an der Merseburger Straße (etwa 25 € "
            "aus dem Quartiersfonds); Carl und Dora hängen sie bis 30. August auf."
        ),
        "open": "/offen",
        "digest_time": "14 09:00",  # Monday, the [digest] weekday and time of the demo's config
        "setup_pt": "/setup PT Projektteam",
        "admit_pt": "/aufnehmen @anna @carl",
        "petition": "/anliegen",
        "petition_text": (
            "Die Sitzungen des ST sind immer dienstags um 16 Uhr. Wer arbeitet, kann nie dabei "
            "sein. Könnte das ST auch einmal abends tagen?"
        ),
        "pt_answer": (
            "Danke für den Hinweis! Wir schlagen dem ST vor, jede zweite Sitzung um 19 Uhr "
            "abzuhalten."
        ),
        "mydata": "/meinedaten",
        "forget": "/vergessen",
    },
    "en": {
        "propose": (
            "/propose 7 days Notices for the street party\n"
            "We print 80 notices for the stairwells on Merseburger Strasse (about €25 from the "
            "neighbourhood fund); Carl and Dora put them up by 30 August."
        ),
        "open": "/open",
        "digest_time": "14 09:00",
        "setup_pt": "/setup PT Project team",
        "admit_pt": "/admit @anna @carl",
        "petition": "/petition",
        "petition_text": (
            "The ST always meets on Tuesdays at 4 pm. Anyone who works can never be there. "
            "Could the ST meet in the evening now and then?"
        ),
        "pt_answer": (
            "Thank you for raising it! We will propose to the ST that every second meeting "
            "starts at 7 pm."
        ),
        "mydata": "/mydata",
        "forget": "/forgetme",
    },
}

SCENES: dict[str, dict[str, str]] = {
    "de": {
        "propose2": "Carl schlägt Aushänge vor; er, Anna und Bert stimmen zu",
        "open": "Emil fragt, was offen ist: im Chat des Teams und privat",
        "digest": "Montagmorgen: der Wochenrückblick",
        "pt": "Ada richtet den Chat des Projektteams ein",
        "petition": "Emil bringt privat ein Anliegen an das Projektteam, anonym",
        "pt_answer": "Anna antwortet im Projektteam auf das Anliegen",
        "mydata": "Emil fragt nach seinen Daten",
        "forget": "Emil lässt sich vergessen",
    },
    "en": {
        "propose2": "Carl proposes notices; he, Anna and Bert agree",
        "open": "Emil asks what is open: in the team chat and privately",
        "digest": "Monday morning: the weekly digest",
        "pt": "Ada sets up the project team's chat",
        "petition": "Emil privately raises a petition with the project team, anonymously",
        "pt_answer": "Anna answers the petition in the project team",
        "mydata": "Emil asks for his data",
        "forget": "Emil asks to be forgotten",
    },
}


async def scenario(demo: Demo) -> None:
    """What the members do in the week after the Beschluss (day 10 is a Thursday)."""
    # The people and the ST chat are bot.demo's, which imports this module.
    from bot.demo import ADA, ANNA, BERT, CARL, EMIL, ST, plain

    lang, script = demo.language, SCRIPT[demo.language]
    scene, say, press, tap = demo.scene, demo.say, demo.press, demo.tap

    await scene("propose2", "10 10:00")  # a seven-day round: until Thursday 10:01
    await say(ST, CARL, script["propose"])
    demo.expect("#2" in (demo.card().text or ""), "no card shows proposal #2")
    for member in (CARL, ANNA, BERT):
        await press(member, "agree")

    await scene("open", "11 18:00")
    reply = await say(ST, EMIL, script["open"])
    demo.expect(reply is not None and "#2" in (reply.text or ""), "/offen does not list #2")
    # What is open is the team's (SPEC §1, who may do what, where): privately the bot points
    # to the team chat.
    before = demo.last_id(EMIL)
    await say(EMIL, EMIL, script["open"])
    demo.expect_text(EMIL, plain(t(lang, "error.group_only")), "private /offen", since=before)

    # The Wochenrückblick comes from the bot's own due work at the digest's time.
    before = demo.last_id(ST)
    await scene("digest", script["digest_time"])
    await demo.due_work()
    digests = [text for text in demo.bot_texts(ST, since=before) if text.startswith("📅")]
    demo.expect(len(digests) == 1, f"{len(digests)} Wochenrückblicke in the ST chat, not one")
    decided = plain(t(lang, "digest.decided_header"))
    demo.expect(decided in digests[0], "the Wochenrückblick does not show the week's Beschluss")

    await scene("pt", "14 10:00")
    demo.model.add_group(
        PT,
        "PT Projektteam",
        members=(ADA, ANNA, CARL),
        admins=[ADA],
        bot_status="administrator",
        label="PT",
    )
    reply = await say(PT, ADA, script["setup_pt"])
    demo.expect(reply is not None and "✅" in (reply.text or ""), "/setup PT did not bind")
    await say(PT, ANNA, demo.script["hello"])
    await say(PT, CARL, demo.script["hello"])
    reply = await say(PT, ADA, script["admit_pt"])
    demo.expect(reply is not None and "✅" in (reply.text or ""), "the PT's members not entered")

    await scene("petition", "14 20:30")
    await say(EMIL, EMIL, script["petition"])
    await say(EMIL, EMIL, script["petition_text"])
    await tap(EMIL, EMIL, t(lang, "petition.button.anonymous"))
    post = demo.model.last_bot_message(PT)
    demo.expect(
        post is not None and script["petition_text"] in (post.text or ""),
        "the Anliegen did not arrive in the PT chat",
    )
    demo.expect(post is not None and "Emil" not in (post.text or ""), "the PT sees who sent it")

    await scene("pt_answer", "15 08:15")
    assert post is not None
    before = demo.last_id(EMIL)
    await say(PT, ANNA, script["pt_answer"], reply_to=post.message_id)
    demo.expect_text(EMIL, script["pt_answer"], "the answer did not reach Emil", since=before)

    await scene("mydata", "15 19:00")
    reply = await say(EMIL, EMIL, script["mydata"])
    demo.expect(reply is not None and reply.document is not None, "/meinedaten sent no file")

    await scene("forget", "15 19:05")
    await say(EMIL, EMIL, script["forget"])
    await tap(EMIL, EMIL, t(lang, "forget.button.yes"))
    done = plain(t(lang, "forget.done"))
    demo.expect_text(EMIL, done, "the question to /vergessen did not become its confirmation")
