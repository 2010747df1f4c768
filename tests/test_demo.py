"""`wiq-bot demo`: the scripted decision of a steering team runs in a subprocess, with no token
and no network, and its transcript tells the whole story — proposal, Einwand with its reason,
revision, round two, the majority vote, and the result.

When a step of the scenario goes wrong, the demo exits 1 and says which step on stderr; every
assertion here shows that line, the end of stderr and the end of the transcript."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
TIME_LIMIT = 30.0

GERMAN_UI_WORDS = [
    "Zustimmung",
    "Bedenken",
    "Enthaltung",
    "Einwand",
    "Mehrheitsabstimmung",
    "Angenommen",
    "Konsensrunde",
    "Vorschlag",
    "Frist",
    "Gespeichert",
    "Noch nicht geantwortet",
]


@dataclass(frozen=True)
class DemoRun:
    returncode: int
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)
    seconds: float

    def explain(self) -> str:
        """What a reader needs when an assertion fails: the failed step and the context."""
        failed = [line for line in self.stderr.splitlines() if "FAILED" in line]
        return "\n".join(
            [
                f"exit code {self.returncode} after {self.seconds:.1f}s",
                *(failed or ["(no FAILED line on stderr)"]),
                "--- stderr (end) ---",
                *self.stderr.splitlines()[-25:],
                "--- transcript (end) ---",
                *self.stdout.splitlines()[-40:],
            ]
        )


def run_demo(*args: str) -> DemoRun:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("WIQ_BOT_TOKEN", None)  # the demo needs no token
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=TIME_LIMIT,
        check=False,
    )
    return DemoRun(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def assert_in_order(run: DemoRun, steps: list[tuple[str, str]]) -> None:
    """Each (what, text) appears in the transcript, after the one before it."""
    position = 0
    for what, text in steps:
        found = run.stdout.find(text, position)
        assert found >= 0, f"transcript lacks {what}: {text!r} (after offset {position})\n" + (
            run.explain()
        )
        position = found + len(text)


@pytest.fixture(scope="module")
def german() -> DemoRun:
    return run_demo()


@pytest.fixture(scope="module")
def english() -> DemoRun:
    return run_demo("--language", "en")


def test_demo_exits_0_within_the_time_limit(german: DemoRun) -> None:
    assert german.returncode == 0, german.explain()
    assert german.seconds < TIME_LIMIT, german.explain()
    assert "FAILED" not in german.stderr, german.explain()


def test_transcript_shows_the_whole_path(german: DemoRun) -> None:
    bert_reason = "Samstags ist Wochenmarkt am Lindenauer Markt"
    assert_in_order(
        german,
        [
            ("the chat being bound", "/setup ST Steuerungsteam"),
            ("a seat being entered", "/aufnehmen @anna politik Stadtbezirksbeirat Alt-West"),
            ("the proposal, its deadline as people write it", "/vorschlag 3 Tage Straßenfest"),
            ("the proposal card", "Vorschlag #1 · Konsensrunde 1 von 2"),
            ("the card's deadline, readable", "Frist: Do., 05.11.2026, 09:31 Uhr"),
            ("the card's buttons", "[Zustimmung] [Bedenken] [Enthaltung] [Einwand]"),
            ("Bert's Einwand", "Bert ▸ [Einwand]"),
            ("the private question for a reason", "[DM Bert] bot"),
            ("Bert's reason, given privately", f"[DM Bert] Bert #4: {bert_reason}"),
            ("Carl's Bedenken", "Carl ▸ [Bedenken]"),
            # the result goes first, the card's final state after it (card edits go last)
            ("the Einwand with its reason in the result", f"• Bert: {bert_reason}"),
            ("round 1 closing with Einwände", "Runde beendet: Einwände"),
            ("the revision", "/ueberarbeiten 1"),
            ("the round 2 card", "Vorschlag #1 · Konsensrunde 2 von 2"),
            ("the carried objection", "besteht"),
            ("Bert keeping his Einwand", "Bert ▸ [Einwand]"),
            ("round 2 closing with Einwände", "Einwände"),
            (
                "the result saying until when the vote runs",
                "Mehrheitsabstimmung läuft jetzt bis Mi.",
            ),
            ("the poll, with its deadline", "📊 Mehrheitsabstimmung zu #1 bis Mi., 11.11.2026"),
            ("the poll's options", "○ Ja  ○ Nein  ○ Enthaltung"),
            ("the card saying it too (card edits go last)", "bis Mi., 11.11.2026, 11:05 Uhr"),
            ("a poll answer", "Anna ☑ poll"),
            ("the poll being closed", "closed poll"),
            ("the result", "Angenommen"),
            ("the card's final state", "Beschluss: Angenommen durch Mehrheitsabstimmung (Ja 3"),
        ],
    )


def test_the_vote_counts_what_the_members_chose(german: DemoRun) -> None:
    result = german.stdout[german.stdout.rfind("Mehrheitsabstimmung zu #1 ") :]
    assert "Angenommen" in result and "Ja 3 · Nein 1 · Enthaltung 0" in result, german.explain()


def test_the_bots_logs_stay_off_stdout_and_report_no_errors(german: DemoRun) -> None:
    assert "level=" not in german.stdout, german.explain()
    assert "level=ERROR" not in german.stderr, german.explain()
    assert "Traceback" not in german.stderr, german.explain()


def test_the_demo_in_english(english: DemoRun) -> None:
    assert english.returncode == 0, english.explain()
    assert english.seconds < TIME_LIMIT, english.explain()
    for text in (
        "Proposal #1",
        "Deadline: Thu 5 Nov 2026, 09:31",  # the day before the month
        "[Objection]",
        "Majority vote",
        "Accepted",
    ):
        assert text in english.stdout, f"no {text!r}\n" + english.explain()
    german_words = [word for word in GERMAN_UI_WORDS if word in english.stdout]
    assert german_words == [], english.explain()


def test_an_unknown_language_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--language", "fr"])
    assert exit_.value.code == 2
    assert "--language" in capsys.readouterr().err


def test_the_week_after_shows_what_every_member_can_do(german: DemoRun) -> None:
    """The demo's second part (bot/demo_members.py): the examples of the guide's members'
    part, in the order a member meets them."""
    petition = "Die Sitzungen des ST sind immer dienstags um 16 Uhr."
    assert_in_order(
        german,
        [
            ("a second proposal", "Vorschlag #2 · Konsensrunde 1 von 2"),
            ("/offen in the team chat", "[ST] bot #31: Offen im „Steuerungsteam“ (ST):"),
            ("who has not responded", "noch nicht geantwortet: Dora, Emil"),
            ("/offen privately points to the team chat", "[DM Emil] bot #2: Das geht nur im"),
            ("the Wochenrückblick, on Monday at 9", "Mo., 16.11.2026, 09:00 Uhr"),
            ("its header", "📅 Wochenrückblick Steuerungsteam · 09.11.2026 – 16.11.2026"),
            ("the week's Beschluss", "– Angenommen (11.11.2026) · zur Karte"),
            ("what is still open", "– 2 noch ohne Antwort"),
            ("the PT's chat", "[PT] bot #2: ✅ Dieser Chat gehört jetzt zum „Projektteam“"),
            ("the Anliegen, asked for privately", "[DM Emil] Emil #3: /anliegen"),
            ("its text", f"[DM Emil] Emil #5: {petition}"),
            ("the choice", "[DM Emil] Emil ▸ [Anonym]"),
            ("the post in the PT chat", "[PT] bot #7: 📨 Anliegen #1 (anonym)"),
            ("its text there", petition),
            ("the PT's answer", "[PT] Anna #8 (↩ #7):"),
            ("the answer reaching Emil", "Antwort des Projektteams auf dein Anliegen #1, von Anna"),
            ("his data as a file", "📎 wiq-meine-daten.json"),
            ("the question before forgetting", "Soll ich dich vergessen?"),
            ("the confirmation button", "[DM Emil] Emil ▸ [Ja, vergiss mich]"),
            ("the card without him", "Noch nicht geantwortet (1): Dora"),
            ("how long backups keep him", "Sicherungskopien von vorher"),
            ("the number of days", "nach 14 Tagen"),
        ],
    )
    # An anonymous Anliegen names nobody in the PT chat.
    post = german.stdout[german.stdout.find("[PT] bot #7:") :]
    post = post[: post.find("\n[DM Emil]")]
    assert "Anliegen #1 (anonym)" in post and "Emil" not in post, german.explain()
