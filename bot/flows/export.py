"""The record as files (/export): a team's or the whole network's decisions as a CSV file and
as a Markdown table with the same rows, headed in the chat's language. Pure: records in, bytes
out.

- Rows: every proposal, in the order they were made; open ones too, with the outcome "offen",
  so that the file is the record and not only its closed part (/decisions lists the closed ones).
- Counts: the last round's responses by choice (only those the tally counts) and the vote's
  Ja/Nein/Enthaltung and ignored answers. While a round under `show_tally = after_close` runs,
  only how many responded is shown, as on its card. Nobody is named.
- Reasons: every round's reasons for Einwände and Bedenken, marked when one came after its
  round closed (SPEC §3.4); not while a round under `show_tally = after_close` runs.
- CSV: UTF-8 with a byte-order mark (without it Excel reads umlauts wrongly; Python reads it
  with `encoding="utf-8-sig"`), a header row, and the separator spreadsheet software expects in
  that language (German Excel splits on ";", English on ","). A cell that starts with = + - @
  (or a tab or carriage return) gets a leading apostrophe, so that no spreadsheet runs a title
  as a formula.
- Markdown: a GitHub table; pipes and backslashes escaped, line breaks as <br>, and & < > as
  entities, so that a title can neither break the table nor bring in markup.
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.charter.outcomes import Ballot, Response
from bot.charter.policy import ShowTally
from bot.texts import dates
from bot.texts.i18n import t
from storage.record import RecordedDecision, RecordedRound

SEPARATORS = {"de": ";", "en": ","}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PATH_SEPARATOR = "; "


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True, slots=True)
class ExportFiles:
    csv_name: str
    csv: bytes
    markdown_name: str
    markdown: bytes


def plain(lang: str, key: str, /, **params: object) -> str:
    """A catalogue text for a file, not for Telegram's HTML: no entities."""
    return html.unescape(t(lang, key, **params))


def build(
    record: Sequence[RecordedDecision],
    lang: str,
    tz: tzinfo,
    now: datetime,
    *,
    scope: str,
    team_names: Mapping[int, str] | None = None,
) -> ExportFiles:
    """Both files for one team (`scope` is its name) or, with `team_names`, for the network
    (`scope` is the network's name; a team column is added)."""
    table = decision_table(record, lang, tz, team_names)
    heading_key = "export.heading_network" if team_names is not None else "export.heading"
    heading = plain(lang, heading_key, name=scope)
    # the file travels: its date names the timezone (the table's cells are sortable, `local`)
    as_of = plain(lang, "export.as_of", date=dates.moment(now, lang, tz, zone=True))
    stem = "-".join(
        (plain(lang, "export.filename"), slug(scope), now.astimezone(tz).date().isoformat())
    )
    return ExportFiles(
        csv_name=f"{stem}.csv",
        csv=to_csv(table, lang),
        markdown_name=f"{stem}.md",
        markdown=to_markdown(table, heading, as_of),
    )


# -- the table -------------------------------------------------------------------------------


def decision_table(
    record: Sequence[RecordedDecision],
    lang: str,
    tz: tzinfo,
    team_names: Mapping[int, str] | None = None,
) -> Table:
    round_column = [
        plain(lang, "export.column.round", what=plain(lang, key))
        for key in (
            "export.column.electorate",
            "export.column.responses",
            *(f"choice.{choice.value}" for choice in Response),
        )
    ]
    vote_column = [
        plain(lang, "export.column.vote", what=plain(lang, key))
        for key in (*(f"ballot.{ballot.value}" for ballot in Ballot), "export.column.ignored")
    ]
    header = [
        plain(lang, "export.column.id"),
        *([plain(lang, "export.column.team")] if team_names is not None else []),
        plain(lang, "export.column.kind"),
        plain(lang, "export.column.title"),
        plain(lang, "export.column.path"),
        plain(lang, "export.column.outcome"),
        *round_column,
        *vote_column,
        plain(lang, "export.column.created"),
        plain(lang, "export.column.closed"),
        plain(lang, "export.column.reasons"),
    ]
    rows = [_row(decision, lang, tz, team_names) for decision in record]
    return Table(header, rows)


def _row(
    decision: RecordedDecision, lang: str, tz: tzinfo, team_names: Mapping[int, str] | None
) -> list[str]:
    proposal = decision.proposal
    last = decision.rounds[-1] if decision.rounds else None
    round_cells = ["", "", *("" for _ in Response)]
    if last is not None:
        hidden = _running(decision, last) and (
            proposal.policy.get("show_tally") == ShowTally.AFTER_CLOSE.value
        )
        round_cells = [
            str(last.electorate),
            str(sum(last.counts.values())),
            *("" if hidden else str(last.counts.get(choice.value, 0)) for choice in Response),
        ]
    vote = decision.vote
    vote_cells = ["", "", "", ""]
    if vote is not None and vote.outcome is not None:
        vote_cells = [_number(vote.yes), _number(vote.no), _number(vote.abstain)]
        vote_cells.append(_number(vote.ignored))
    outcome = (
        plain(lang, f"outcome.{proposal.outcome}")
        if proposal.outcome
        else plain(lang, "export.open")
    )
    return [
        str(proposal.number),
        *([team_names.get(proposal.team_id, "?")] if team_names is not None else []),
        _kind(lang, proposal.kind),
        proposal.title,
        process_path(decision, lang),
        outcome,
        *round_cells,
        *vote_cells,
        local(proposal.created_at, tz),
        local(proposal.closed_at, tz) if proposal.closed_at else "",
        reasons(decision, lang),
    ]


def reasons(decision: RecordedDecision, lang: str) -> str:
    """`Runde 1, Einwand: zu teuer; Runde 2, Bedenken: knapp (nachgetragen)`: nobody named."""
    hide = decision.proposal.policy.get("show_tally") == ShowTally.AFTER_CLOSE.value
    given = []
    for round_ in decision.rounds:
        if hide and _running(decision, round_):
            continue
        for choice, reason, late in round_.reasons:
            key = "export.reason_late" if late else "export.reason"
            given.append(
                plain(
                    lang,
                    key,
                    number=round_.number,
                    choice=plain(lang, f"choice.{choice}"),
                    reason=reason,
                )
            )
    return PATH_SEPARATOR.join(given)


def process_path(decision: RecordedDecision, lang: str) -> str:
    """`Runde 1: Einwände; Runde 2: Einwände; Abstimmung: Angenommen`."""
    steps = []
    for round_ in decision.rounds:
        if round_.outcome is not None:
            outcome = plain(lang, f"round_outcome.{round_.outcome}")
            steps.append(plain(lang, "export.round", number=round_.number, outcome=outcome))
        elif _running(decision, round_):
            steps.append(plain(lang, "export.round_running", number=round_.number))
        else:
            outcome = plain(lang, "round_outcome.superseded")
            steps.append(plain(lang, "export.round", number=round_.number, outcome=outcome))
    vote = decision.vote
    if vote is not None:
        if vote.outcome is not None:
            outcome = plain(lang, f"outcome.{vote.outcome}")
            steps.append(plain(lang, "export.vote", outcome=outcome))
        elif decision.proposal.status == "vote_open":
            steps.append(plain(lang, "export.vote_running"))
        else:
            outcome = plain(lang, "round_outcome.superseded")
            steps.append(plain(lang, "export.vote", outcome=outcome))
    return PATH_SEPARATOR.join(steps)


def _running(decision: RecordedDecision, round_: RecordedRound) -> bool:
    # A round that is being closed (claimed, no outcome yet) still counts as running.
    return (
        round_.outcome is None
        and decision.proposal.status == "round_open"
        and round_ is decision.rounds[-1]
    )


def _kind(lang: str, kind: str) -> str:
    try:
        return plain(lang, f"export.kind.{kind}")
    except KeyError:
        return kind


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def local(moment: datetime, tz: tzinfo) -> str:
    """Sortable and the same in every language: 2026-11-24 14:05 (the network's time)."""
    return dates.sortable(moment, tz)


# -- the files -------------------------------------------------------------------------------


def to_csv(table: Table, lang: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator(lang), lineterminator="\r\n")
    writer.writerow([defuse(cell) for cell in table.header])
    writer.writerows([defuse(cell) for cell in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def separator(lang: str) -> str:
    return SEPARATORS.get(lang, ",")


def defuse(cell: str) -> str:
    """No formula: spreadsheet software shows a cell starting with an apostrophe as text."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def to_markdown(table: Table, heading: str, as_of: str) -> bytes:
    lines = [f"# {markdown_cell(heading)}", "", markdown_cell(as_of), ""]
    lines.append(_markdown_row(table.header))
    lines.append("|" + "|".join(" --- " for _ in table.header) + "|")
    lines.extend(_markdown_row(row) for row in table.rows)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(markdown_cell(cell) for cell in cells) + " |"


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def markdown_cell(text: str) -> str:
    text = html.escape(text, quote=False).replace("\\", "\\\\").replace("|", "\\|")
    return _LINE_BREAK.sub("<br>", text)


def slug(name: str) -> str:
    """An ASCII piece of a file name: `Lösungsteam Grün` -> `loesungsteam-gruen`."""
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        name = name.replace(umlaut, spelled).replace(umlaut.upper(), spelled.capitalize())
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "team"
