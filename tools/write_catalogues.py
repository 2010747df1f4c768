"""Regenerate bot/locale/{de,en}.po from a Python table (for bulk edits; the .po files are
the catalogue the bot reads). Usage: python tools/write_catalogues.py TABLE.py"""

import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

table = runpy.run_path(sys.argv[1])["T"]
root = Path(__file__).resolve().parent.parent / "bot" / "locale"
for index, lang in enumerate(("de", "en")):
    catalog = Catalog(locale=lang, project="wiq-bot", charset="utf-8")
    for key, texts in table.items():
        catalog.add(key, texts[index])
    with (root / f"{lang}.po").open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=False)
