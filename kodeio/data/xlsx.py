"""Constant-memory row streaming for openpyxl read-only worksheets.

openpyxl's read-only mode parses a sheet with `iterparse` and clears each `<row>` after
use, but the cleared rows stay attached to `<sheetData>` (about 80 bytes per row), and
rows with custom heights pile up in `row_dimensions`. On a 200k-row AI Hub file that is
~16 MB that grows with the row count. `stream_rows` parses the sheet XML of openpyxl's
read-only workbook itself and detaches each row from its parent, so memory stays flat
whatever the file length (the workbook's shared-string table, which Excel files keep in
one part, is the only thing that scales with the data). It also ignores the sheet's stored
`<dimension>`, which some exporters write wrong (openpyxl would stop reading at that row),
and reports Excel's real row numbers.

It uses two openpyxl internals (`_get_source`, `_shared_strings`); if they change, it falls
back to the public `iter_rows` (correct, slightly less flat).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _fallback(sheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    sheet.reset_dimensions()
    for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
        yield number, tuple(row)


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW = _MAIN_NS + "row"
_SHEET_DATA = _MAIN_NS + "sheetData"
_CELL = _MAIN_NS + "c"
_VALUE = _MAIN_NS + "v"
_INLINE = _MAIN_NS + "is"
_TEXT = _MAIN_NS + "t"
_PHONETIC = _MAIN_NS + "rPh"


def column_index(reference: str) -> int:
    """'C12' -> 3 (1-based column of a cell reference)."""
    index = 0
    for ch in reference:
        if "A" <= ch <= "Z":
            index = index * 26 + (ord(ch) - 64)
        else:
            break
    return index


def _inline_text(cell: Any) -> str | None:
    inline = cell.find(_INLINE)
    if inline is None:
        return None
    # Plain <t>, or rich-text runs <r><t>; phonetic guides (<rPh>) are not cell text.
    parts = [t.text or "" for t in inline.iter(_TEXT)]
    phonetic = [t.text or "" for ph in inline.iter(_PHONETIC) for t in ph.iter(_TEXT)]
    if phonetic:
        parts = parts[: len(parts) - len(phonetic)]
    return "".join(parts)


def cell_value(cell: Any, shared_strings: Any) -> Any:
    """The value of one `<c>` element: shared/inline string, number, bool or error text.

    Dates stay Excel serial numbers (this reader is for text corpora, where a date cell in
    a text column is a data problem either way).
    """
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return _inline_text(cell)
    raw = cell.findtext(_VALUE)
    if raw is None:
        return None
    if kind == "s":
        return shared_strings[int(raw)]
    if kind == "b":
        return raw.strip() == "1"
    if kind in ("str", "e"):
        return raw
    try:
        number = float(raw)
    except ValueError:
        return raw
    return (
        int(number) if number.is_integer() and "." not in raw and "E" not in raw.upper() else number
    )


def stream_rows(sheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(Excel row number, cell values) for every stored row of a read-only worksheet.

    The workbook (zip archive, shared-string table) is openpyxl's; the sheet XML is parsed
    here with `iterparse`, each row detached from the tree once read. Cells are decoded
    directly (openpyxl's per-cell parser builds descriptor objects for every inline string,
    several times slower).
    """
    try:
        from openpyxl.xml.functions import iterparse

        source = sheet._get_source()
        shared_strings = sheet._shared_strings
    except (ImportError, AttributeError):
        yield from _fallback(sheet)
        return
    with source:
        sheet_data = None
        counter = 0
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                if element.tag == _SHEET_DATA:
                    sheet_data = element
                continue
            if element.tag != _ROW:
                continue
            number = element.get("r")
            counter = int(float(number)) if number else counter + 1
            values: list[Any] = []
            for cell in element.iter(_CELL):
                reference = cell.get("r")
                column = column_index(reference) if reference else len(values) + 1
                if column > len(values):
                    values.extend([None] * (column - len(values)))
                values[column - 1] = cell_value(cell, shared_strings)
            element.clear()
            if sheet_data is not None:
                sheet_data.remove(element)  # the only child left: O(1)
            yield counter, tuple(values)
