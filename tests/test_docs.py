"""The map stays true: every row of docs/architecture.md's "Where is …" table names a file that
exists and defines what the row says, the paths the documents name exist, and the README points
into the repository only."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
SPEC = ROOT / "docs" / "spec.md"
README = ROOT / "README.md"

# The questions a newcomer asks first: they keep their row, wherever the answer moves.
FIRST_QUESTIONS = (
    "Where does a consensus round close?",
    "Where is a nomination appointed?",
    "Where is the reminder's text?",
    "When does a reminder fire?",
    "Does /admit go direct or by a team decision?",
    "Where is the reason for a Bedenken taken?",
    "Where is a command registered?",
    "Where is the callback data encoded?",
    "Where is the group budget kept?",
    "Where is a petition's anonymity kept?",
    "Where are the migrations applied?",
    "Where is the digest's content selected?",
)

_CODE = re.compile(r"^`([^`]+)`$")
# A path into the repository, as a document quotes it: `bot/flows/decisions.py`.
_REPOSITORY_PATH = re.compile(
    r"`((?:bot|handlers|storage|localapi|bench|tests|docs|\.ci)/[^`\s]*)`"
)
# A link to another document: [the specification](spec.md), [docs/spec.md](docs/spec.md).
_DOCUMENT_LINK = re.compile(r"\]\(([\w./-]+\.md)(?:#[\w-]*)?\)")


def where_is_rows() -> list[tuple[str, str, str]]:
    """(question, file, name) of each row of the "Where is …" table, as written."""
    lines = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## Where is"))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "question" or set(cells[0]) <= {"-", ":"}:
            continue  # the header and its rule
        assert len(cells) == 3, f"a row has question, file, name: {line}"
        rows.append((cells[0], cells[1], cells[2]))
    return rows


ROWS = where_is_rows()


def _unquoted(cell: str) -> str:
    """The one `code` span a file or name cell must be: one file, one name per row."""
    match = _CODE.match(cell)
    assert match is not None, f"expected exactly one `…` in {cell!r}"
    return match.group(1)


@cache
def _python_names(path: Path) -> frozenset[str]:
    """Every function, class and assigned name a module defines, methods as `Class.method`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(prefix + node.name)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.Assign):
                names.update(prefix + t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(prefix + node.target.id)

    visit(tree.body, "")
    return frozenset(names)


def defines(path: Path, name: str) -> bool:
    """Whether the file holds `name`: a definition in Python, a message id in a catalogue, a
    whole word anywhere else (a trigger or a table in SQL)."""
    if path.suffix == ".py":
        return name in _python_names(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".po":
        return f'msgid "{name}"' in text
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", text) is not None


def test_the_where_is_table_answers_the_first_questions() -> None:
    questions = {question for question, _, _ in ROWS}
    assert [q for q in FIRST_QUESTIONS if q not in questions] == []


@pytest.mark.parametrize(
    ("question", "file", "name"), ROWS, ids=[f"{f.strip('`')}:{n.strip('`')}" for _, f, n in ROWS]
)
def test_each_row_names_one_file_that_holds_the_answer(question: str, file: str, name: str) -> None:
    relative = _unquoted(file)
    target = ROOT / relative
    assert target.resolve().is_relative_to(ROOT), f"{relative} is outside the repository"
    assert target.is_file(), f"{question} — {relative} does not exist"
    assert defines(target, _unquoted(name)), f"{question} — {relative} defines no {name}"


@pytest.mark.parametrize("doc", [README, ARCHITECTURE], ids=lambda path: path.name)
def test_every_path_a_document_names_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    paths = {ROOT / path for path in _REPOSITORY_PATH.findall(text)}
    paths |= {doc.parent / link for link in _DOCUMENT_LINK.findall(text)}
    missing = sorted(str(path.relative_to(ROOT)) for path in paths if not path.exists())
    assert missing == [], f"{doc.name} names paths that do not exist"


def test_the_readme_links_the_spec_and_the_architecture() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "](docs/spec.md)" in readme
    assert "](docs/architecture.md)" in readme


def test_the_readme_names_no_path_outside_the_repository() -> None:
    assert "../" not in README.read_text(encoding="utf-8")


def test_the_specification_is_in_the_repository() -> None:
    head = SPEC.read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert '"SPEC §x"' in head  # what the comments in the code refer to
