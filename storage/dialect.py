"""Where SQLite's SQL and PostgreSQL's differ: the one place that knows (docs/architecture.md,
"Two backends"). The aggregates write their SQL once, in SQLite's words; on PostgreSQL each
statement passes through `PostgresDialect.translate` once (the result is cached), and the few
questions about the schema itself (which tables, which columns) are asked here.

What a translation covers, and nothing else:
- `?` placeholders become `$1, $2, …`, and `?3` becomes `$3` (outside string literals);
- `BEGIN IMMEDIATE` is `BEGIN` (storage.postgres adds the write lock that serialises writers);
- SQLite's index hints (`INDEXED BY i`) go: PostgreSQL's planner picks the partial index;
- `INSERT OR IGNORE INTO …` is `INSERT INTO … ON CONFLICT DO NOTHING`;
- `x IS NOT ?` / `x IS ?` are `IS DISTINCT FROM` / `IS NOT DISTINCT FROM`;
- the two-argument `MAX(COALESCE(…), …)` is `GREATEST(…)`;
- `json_each(X)` is `jsonb_array_elements_text(X::jsonb)`, `json_each(X, '$.k')` is
  `jsonb_array_elements(X::jsonb -> 'k')`, and `json_extract(c, '$.k')` is `c::jsonb ->> 'k'`.

What needs no translation because the PostgreSQL baseline provides it: `COLLATE NOCASE` (a
case-insensitive ICU collation named `nocase`), `instr(a, b)`, the `rowid` of vote_polls (a
column of that name), and the triggers that write the record."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

# A string literal ('…', with '' inside) or anything else, so that replacements skip literals.
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT OR IGNORE INTO\b", re.IGNORECASE)
_RETURNING = re.compile(r"\sRETURNING\s", re.IGNORECASE)
_IS_NOT_PARAM = re.compile(r"\bIS NOT \?", re.IGNORECASE)
_IS_PARAM = re.compile(r"\bIS \?", re.IGNORECASE)
_SCALAR_MAX = re.compile(r"\bMAX\(COALESCE\(", re.IGNORECASE)
_JSON_EACH_PATH = re.compile(r"\bjson_each\(([\w.?]+),\s*'\$\.(\w+)'\)", re.IGNORECASE)
_JSON_EACH = re.compile(r"(?<!AS )\bjson_each\(([\w.?]+)\)", re.IGNORECASE)
_INDEXED_BY = re.compile(r"\s+INDEXED BY \w+", re.IGNORECASE)
_JSON_EXTRACT = re.compile(r"\bjson_extract\(([\w.]+),\s*'\$\.(\w+)'\)", re.IGNORECASE)


class Dialect:
    """SQLite's: the SQL as written."""

    name: str = "sqlite"

    def translate(self, sql: str) -> str:
        return sql

    # Questions about the schema (the census, the export of a person's data).

    def tables_sql(self) -> str:
        """The user tables but schema_migrations, one column `name`, ordered by name."""
        return (
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations' ORDER BY name"
        )

    def has_table_sql(self) -> str:
        """One row if the table named by the one parameter exists."""
        return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"

    def columns_sql(self, table: str) -> tuple[str, tuple[str, ...]]:
        """The table's columns: rows of `name`, `notnull` (1 or 0), in their order."""
        return f'SELECT name, "notnull" FROM pragma_table_info({_literal(table)})', ()

    def references_sql(self, table: str) -> tuple[str, tuple[str, ...]]:
        """The table's foreign keys: rows of `from` (its column) and `table` (the one it
        refers to)."""
        return f'SELECT "from", "table" FROM pragma_foreign_key_list({_literal(table)})', ()

    def integrity_sql(self) -> str | None:
        """A check of the database's own consistency: rows of one text, "ok" if sound."""
        return "PRAGMA integrity_check(20)"


class PostgresDialect(Dialect):
    name = "postgresql"

    def translate(self, sql: str) -> str:
        return _translate(sql)

    def tables_sql(self) -> str:
        return (
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " AND table_name != 'schema_migrations' ORDER BY table_name"
        )

    def has_table_sql(self) -> str:
        return (
            "SELECT 1 FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name = ?"
        )

    def columns_sql(self, table: str) -> tuple[str, tuple[str, ...]]:
        return (
            "SELECT column_name AS name, CASE is_nullable WHEN 'NO' THEN 1 ELSE 0 END"
            ' AS "notnull" FROM information_schema.columns'
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )

    def references_sql(self, table: str) -> tuple[str, tuple[str, ...]]:
        return (
            'SELECT a.attname AS "from", f.relname AS "table" FROM pg_constraint c'
            " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class f ON f.oid = c.confrelid"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
            " WHERE c.contype = 'f' AND t.relname = ?"
            " AND t.relnamespace = current_schema()::regnamespace",
            (table,),
        )

    def integrity_sql(self) -> str | None:
        return None  # PostgreSQL keeps its own pages consistent; there is no quick check


SQLITE: Final = Dialect()
POSTGRES: Final = PostgresDialect()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@lru_cache(maxsize=2048)
def _translate(sql: str) -> str:
    # Literals are set aside first, so that nothing inside one is ever rewritten.
    literals: list[str] = []

    def keep(match: re.Match[str]) -> str:
        literals.append(match.group(0))
        return f"\x00{len(literals) - 1}\x00"

    text = _LITERAL.sub(keep, sql)
    # The patterns that name a JSON path carry it as a literal: put those back first.
    text = _restore(text, literals, only_paths=True)
    text = text.replace("BEGIN IMMEDIATE", "BEGIN")
    text = _INDEXED_BY.sub("", text)
    if _INSERT_OR_IGNORE.match(text):
        text = _INSERT_OR_IGNORE.sub("INSERT INTO", text, count=1)
        returning = _RETURNING.search(text)
        if returning:
            at = returning.start()
            text = text[:at] + " ON CONFLICT DO NOTHING" + text[at:]
        else:
            text = text.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    text = _IS_NOT_PARAM.sub("IS DISTINCT FROM ?", text)
    text = _IS_PARAM.sub("IS NOT DISTINCT FROM ?", text)
    text = _SCALAR_MAX.sub("GREATEST(COALESCE(", text)
    text = _JSON_EACH_PATH.sub(
        r"jsonb_array_elements((\1)::jsonb -> '\2') AS json_each(value)", text
    )
    text = _JSON_EACH.sub(r"jsonb_array_elements_text((\1)::jsonb) AS json_each(value)", text)
    text = _JSON_EXTRACT.sub(r"((\1)::jsonb ->> '\2')", text)
    if _NUMBERED.search(text):
        text = _NUMBERED.sub(r"$\1", text)  # ?3 is $3
    else:
        parts = text.split("?")
        text = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))
    return _restore(text, literals, only_paths=False)


_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_NUMBERED = re.compile(r"\?(\d+)")


def _restore(text: str, literals: list[str], *, only_paths: bool) -> str:
    def back(match: re.Match[str]) -> str:
        literal = literals[int(match.group(1))]
        if only_paths and not literal.startswith("'$."):
            return match.group(0)
        return literal

    return _PLACEHOLDER.sub(back, text)
