"""The examples in docs/anleitung.md (German) and docs/guide.md (English) are the bot's own
words: each block marked `<!-- demo:NAME -->` occurs, line for line, in a freshly played
`wiq-bot demo` transcript of the guide's language. When the bot's texts change, this test names
the block that is no longer true; copy the new lines from `wiq-bot demo [--language en]` into
the guide."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_demo import run_demo

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "anleitung.md"
ENGLISH_GUIDE = ROOT / "docs" / "guide.md"
# The members' part of each guide shows these, from the demo's second part (bot/demo_members.py).
MEMBERS_EXAMPLES = {
    "open",
    "open_private",
    "digest",
    "petition_ask",
    "petition_choice",
    "petition_post",
    "petition_answer",
    "mydata",
    "forget_ask",
    "forget_done",
}
BLOCK = re.compile(r"<!-- demo:(?P<name>[\w-]+) -->\n```text\n(?P<body>.*?)\n```", re.S)


def demo_blocks(text: str) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    for match in BLOCK.finditer(text):
        assert match["name"] not in blocks, f"two blocks named {match['name']}"
        blocks[match["name"]] = [line.rstrip() for line in match["body"].split("\n")]
    return blocks


def occurs_in(block: list[str], transcript: list[str]) -> bool:
    size = len(block)
    return any(transcript[i : i + size] == block for i in range(len(transcript) - size + 1))


@pytest.mark.parametrize(
    ("guide", "args", "least"),
    [(GUIDE, (), 20), (ENGLISH_GUIDE, ("--language", "en"), len(MEMBERS_EXAMPLES))],
    ids=["anleitung.md", "guide.md"],
)
def test_every_example_in_the_guide_is_what_the_demo_says_today(
    guide: Path, args: tuple[str, ...], least: int
) -> None:
    text = guide.read_text(encoding="utf-8")
    blocks = demo_blocks(text)
    # Every marker has its block (a marker without one would check nothing).
    assert len(blocks) == text.count("<!-- demo:"), "a demo marker without a ```text block"
    assert len(blocks) >= least
    assert blocks.keys() >= MEMBERS_EXAMPLES, MEMBERS_EXAMPLES - blocks.keys()
    run = run_demo(*args)
    assert run.returncode == 0, run.explain()
    transcript = [line.rstrip() for line in run.stdout.splitlines()]
    stale = [name for name, block in blocks.items() if not occurs_in(block, transcript)]
    assert not stale, f"blocks of docs/{guide.name} not in today's demo transcript: {stale}"


def test_the_check_notices_a_changed_line() -> None:
    transcript = ["[ST] Anna ▸ [Zustimmung]", "[ST] (toast to Anna: Gespeichert: Zustimmung)"]
    assert occurs_in(transcript, ["x", *transcript, "y"])
    assert not occurs_in([transcript[0], "[ST] (toast to Anna: Gespeichert)"], transcript)
    assert not occurs_in(transcript[::-1], transcript)


def test_the_readme_links_the_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/anleitung.md)" in readme and "(docs/guide.md)" in readme
