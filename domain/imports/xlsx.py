"""XLSX both ways, in the CSV's column layout (domain/imports/formats.py): an export written as a stream (the
OOXML zip made here, a sheet row at a time: constant memory, the first bytes at once), and an upload read a row
at a time (openpyxl in read-only mode, from a temporary file: a zip's directory is at its end, so it cannot be
read as it streams in; the table of shared strings, where Excel keeps every text, on disk too).

Every cell of an export is text (an inline string), as in the CSV; an upload's cells may be whatever Excel made
of them — a number, a date, a boolean — and are turned back into the CSV's text. Characters XML cannot hold
are written `_xHHHH_` (Excel's escape; a literal `_xHHHH_` is written `_x005F_xHHHH_`) and read back.
"""

from __future__ import annotations

import asyncio
import functools
import re
import tempfile
import zipfile
from array import array
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, time, timedelta
from typing import IO, Any

import asyncpg
import msgspec

from domain.imports import formats, store
from domain.imports.model import MAX_ROW_BYTES, FileFormat, InvalidUpload, RowFault, upload_error

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "products"
READ_BATCH = 500  # rows parsed per trip to a worker thread
_SHARED_STRING = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}si"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    f'<sheets><sheet name="{SHEET}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
# the header row stays in view (frozen) while the rows scroll
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    "</sheetView></sheetViews><sheetData>"
)
_SHEET_TAIL = "</sheetData></worksheet>"
_CELL = '<c r="{where}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'

# XML 1.0 cannot hold these (nor a lone surrogate); `\r` it holds only as a reference (a parser reads a raw one
# as `\n`)
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]|_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")
_XML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def column_letter(index: int) -> str:
    """The spreadsheet letters of a column, from 1: 1 → A, 27 → AA."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escape(text: str) -> str:
    text = _UNWRITABLE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text.translate(_XML)


class _Sink:
    """Where the zip writes (it cannot seek: entries carry their sizes after their data): bytes until taken."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = bytes(self.buffer)
        self.buffer.clear()
        return out


class SheetWriter:
    """An XLSX workbook of one sheet of text cells, written a batch of rows at a time; each call answers the
    bytes of the file made since the last one."""

    def __init__(self) -> None:
        self._sink = _Sink()
        # level 1: the sheet's XML still shrinks about tenfold, for a fraction of the default level's CPU
        self._zip = zipfile.ZipFile(self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self._zip.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr("xl/workbook.xml", _WORKBOOK)
        self._zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        # zip64: a sheet of a million products may pass 4 GB of XML
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self._sheet.write(_SHEET_HEAD.encode())
        self._row = 0
        self._letters: list[str] = []

    def rows(self, rows: list[list[str]]) -> bytes:
        parts: list[str] = []
        for cells in rows:
            self._row += 1
            while len(self._letters) < len(cells):
                self._letters.append(column_letter(len(self._letters) + 1))
            parts.append(f'<row r="{self._row}">')
            for letter, cell in zip(self._letters, cells, strict=False):
                if cell != "":
                    parts.append(_CELL.format(where=f"{letter}{self._row}", text=_escape(cell)))
            parts.append("</row>")
        self._sheet.write("".join(parts).encode())
        return self._sink.take()

    def close(self) -> bytes:
        self._sheet.write(_SHEET_TAIL.encode())
        self._sheet.close()
        self._zip.close()
        return self._sink.take()


# ------------------------------------------------------------------------------------------------ reading


def cell_text(value: Any) -> str:
    """A cell as the CSV's text: numbers as written (a whole number without `.0`), booleans `true`/`false`, a
    date `YYYY-MM-DD`, nothing as the empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int | float | timedelta):
        return str(value)
    text = str(value)  # a string, or rich text (a list of runs of text)
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _not_xlsx(why: str) -> InvalidUpload:
    return InvalidUpload(
        f"The body is not an XLSX workbook that can be read ({why}); save it from Excel as “Excel Workbook (.xlsx)”.",
        [upload_error(1, None, "invalid_xlsx", "The file is not a readable XLSX workbook.")],
    )


class _DiskStrings:
    """A workbook's shared strings — Excel keeps every text of a sheet there, as many as the cells — in a temporary
    file with an offset per string, the recently used ones cached: memory stays flat whatever their number (a
    list of them, as openpyxl keeps, grows with the file). Each is its text as written: `_xHHHH_` is undone by
    cell_text (openpyxl's own reader half-undoes it)."""

    def __init__(self, source: IO[bytes]) -> None:
        from openpyxl.cell.text import Text
        from openpyxl.xml.functions import iterparse

        self.file = tempfile.TemporaryFile(prefix="merchflow-strings-")
        self.offsets = array("Q", [0])
        root = None
        for event, node in iterparse(source, events=("start", "end")):
            if root is None:
                root = node
            elif event == "end" and node.tag == _SHARED_STRING:
                data = Text.from_tree(node).content.encode()
                self.file.write(data)
                self.offsets.append(self.offsets[-1] + len(data))
                root.clear()  # (the strings read so far, parsed: dropped)
        self.get = functools.lru_cache(maxsize=4096)(self._read)

    def _read(self, index: int) -> str:
        start, end = self.offsets[index], self.offsets[index + 1]
        self.file.seek(start)
        return self.file.read(end - start).decode()

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self.offsets) - 1:
            raise IndexError(index)
        return self.get(index)

    def close(self) -> None:
        self.file.close()


def _open_book(spool: IO[bytes]) -> tuple[Any, _DiskStrings | None]:
    """openpyxl's reader in read-only mode, its shared strings on disk."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    strings: list[_DiskStrings] = []

    class Reader(ExcelReader):  # type: ignore[misc]
        def read_strings(self) -> None:
            found = self.package.find(SHARED_STRINGS)
            if found is not None:
                with self.archive.open(found.PartName[1:]) as source:
                    strings.append(_DiskStrings(source))
                self.shared_strings = strings[0]

    reader = Reader(spool, read_only=True, data_only=True)
    try:
        reader.read()
    except BaseException:
        for table in strings:
            table.close()
        raise
    return reader.wb, (strings[0] if strings else None)


SCAN_CHUNK = 4 << 20
# A run with no `<` is an element's text and the end of the tag before it (`t>`, or its attributes): what a
# text at the row limit may come with.
LONGEST_RUN = MAX_ROW_BYTES + 4096
_LONG_TEXT = re.compile(rb"[^<]{%d,}" % (LONGEST_RUN + 1))


def refuse_long_texts(spool: IO[bytes]) -> None:
    """Refuse a workbook holding a text longer than a row may be (a run of over LONGEST_RUN bytes with no `<`
    in its XML), before it is parsed: the parser holds an element's text whole, and a few hundred KB
    of zip inflate to gigabytes of one cell. Each part is read once, decompressed in chunks."""
    try:
        with zipfile.ZipFile(spool) as book:
            for part in book.infolist():
                if not part.filename.endswith(".xml"):
                    continue
                run = 0  # the bytes with no `<` at the end of what was read so far
                with book.open(part) as source:
                    while chunk := source.read(SCAN_CHUNK):
                        first = chunk.find(b"<")
                        if first < 0:
                            run += len(chunk)
                        elif run + first > LONGEST_RUN or _LONG_TEXT.search(chunk, first):
                            run = LONGEST_RUN + 1
                        else:
                            run = len(chunk) - chunk.rfind(b"<") - 1
                        if run > LONGEST_RUN:
                            raise InvalidUpload(
                                f"A text of the workbook ({part.filename}) is longer than a row may be "
                                f"({MAX_ROW_BYTES:,} bytes).",
                                [
                                    upload_error(
                                        1, None, "row_too_large", f"A row may be at most {MAX_ROW_BYTES} bytes."
                                    )
                                ],
                            )
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, NotImplementedError):
        return  # (not a readable zip: the workbook reader says so, as for any other damage)
    finally:
        spool.seek(0)


class _Sheet:
    """The first sheet of a workbook on disk, read row by row (in a worker thread: parsing is CPU work)."""

    def __init__(self, spool: IO[bytes]) -> None:
        self.strings: _DiskStrings | None = None
        refuse_long_texts(spool)
        try:
            self.book, self.strings = _open_book(spool)
            sheet = self.book.worksheets[0]
            # the size a file declares may be wrong (some writers never update it): read every row there is
            sheet.reset_dimensions()
        except Exception as exc:  # a zip that is no workbook fails in as many ways as there are files
            if self.strings is not None:
                self.strings.close()
            raise _not_xlsx(type(exc).__name__) from None
        self.rows: Iterator[tuple[Any, ...]] = sheet.iter_rows(values_only=True)
        self.number = 0

    def batch(self) -> list[tuple[int, list[str]]]:
        """The next rows that are not blank, with their numbers; an empty list at the end."""
        out: list[tuple[int, list[str]]] = []
        try:
            for values in self.rows:
                self.number += 1  # (read-only sheets fill the rows a file leaves out with empty ones)
                cells = [cell_text(v) for v in values]
                while cells and cells[-1] == "":
                    cells.pop()
                if cells:
                    out.append((self.number, cells))
                    if len(out) >= READ_BATCH:
                        break
        except Exception as exc:  # a damaged sheet: its XML or its compressed data
            raise _not_xlsx(f"{type(exc).__name__} near row {self.number}") from None
        return out

    def close(self) -> None:
        self.book.close()
        if self.strings is not None:
            self.strings.close()


async def xlsx_records(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, list[str]]]:
    """(row number from 1, its cells as text, trailing empty cells left out) for every row of the first sheet
    that is not blank. The upload is spooled to a temporary file first (removed when done)."""
    with tempfile.TemporaryFile(prefix="merchflow-upload-") as spool:
        async for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        sheet = await asyncio.to_thread(_Sheet, spool)
        try:
            while batch := await asyncio.to_thread(sheet.batch):
                for item in batch:
                    yield item
        finally:
            sheet.close()


async def records(fmt: FileFormat, body: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, list[str]]]:
    """The records of a table: a CSV's, or the rows of an XLSX's first sheet. A table with none — not even
    the header — is refused as a whole: an empty file is a mistake, not an import of nothing."""
    empty = True
    async for record in xlsx_records(body) if fmt == "xlsx" else formats.csv_records(body):
        empty = False
        yield record
    if empty:
        where = "sheet" if fmt == "xlsx" else "file"
        message = f"The {where} is empty: its first line must be the header, naming the columns."
        raise InvalidUpload(message, [upload_error(1, None, "missing_header", message)])


async def sheet_columns(
    conn: asyncpg.Connection, job_id: int, fmt: FileFormat, header: list[str], code_field: str
) -> SheetColumns | None:
    """An XLSX's columns by letter (None for a CSV), once its header is read; the job keeps its codes' column."""
    if fmt != "xlsx":
        return None
    sheet = SheetColumns(header)
    await store.update_import_code_column(conn, job_id, sheet.label(code_field))
    return sheet


class SheetColumns:
    """An XLSX's header row, by letter: the report names a column `D (attr:width)`. A spreadsheet leaves out a
    row's trailing empty cells, so a short row is filled up; a cell right of the header's last column is a
    ragged row, named by its letter."""

    def __init__(self, header: list[str]) -> None:
        self.width = len(header)
        self.letters = {name.strip(): column_letter(i + 1) for i, name in enumerate(header)}

    def label(self, name: str) -> str:
        letter = self.letters.get(name)
        return name if letter is None else f"{letter} ({name})"

    def fit(self, line: int, cells: list[str]) -> list[str] | RowFault:
        if len(cells) > self.width:
            extra = column_letter(next(i for i in range(self.width, len(cells)) if cells[i] != "") + 1)
            message = f"Cell {extra}{line} is right of the header's last column."
            return RowFault(pointer=None, column=extra, code="ragged_row", message=message)
        if sum(len(c.encode()) for c in cells) > MAX_ROW_BYTES:
            message = f"A row may be at most {MAX_ROW_BYTES} bytes."
            return RowFault(pointer=None, column=None, code="row_too_large", message=message)
        return cells + [""] * (self.width - len(cells))

    def relabel(self, faults: list[RowFault]) -> list[RowFault]:
        return [f if f.column is None else msgspec.structs.replace(f, column=self.label(f.column)) for f in faults]
