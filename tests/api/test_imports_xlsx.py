"""Product imports and exports as XLSX over HTTP: the export is a workbook in the CSV's columns that an import
takes back unchanged; an upload from Excel (numbers, booleans typed as such) feeds the CSV's rows and rules,
its bad cells named by row number and column letter; a body that is no workbook is a 400 and imports nothing."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import asyncpg
import httpx
import openpyxl
import pytest

from domain.imports import exports
from domain.imports.model import MAX_ROW_BYTES
from domain.imports.xlsx import SCAN_CHUNK, cell_text, refuse_long_texts
from tests.api import test_import_skus as sku_tests
from tests.api.test_imports import catalog, imported, jsonl, report, row, upload

XLSX = {"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def workbook(*rows: list[Any]) -> bytes:
    """A workbook as openpyxl saves one (inline strings, typed cells), its first sheet holding `rows`."""
    book = openpyxl.Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(r)
    book.create_sheet("notes").append(["only the first sheet is read"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def excel_workbook(rows: list[list[int | float | str | None]], shared: list[str]) -> bytes:
    """A workbook as Excel writes one: text in a table of shared strings (`<si>` items, given as written: plain
    `<t>`, rich-text runs, phonetic hints), a cell naming its string by index (an int in `rows` is an index; a
    float is a number; a str a cell's XML as it stands)."""
    cells = []
    for n, r in enumerate(rows, start=1):
        xml = []
        for letter, v in zip("ABCDEFGH", r, strict=False):
            if isinstance(v, int):
                xml.append(f'<c r="{letter}{n}" t="s"><v>{v}</v></c>')
            elif isinstance(v, float):
                xml.append(f'<c r="{letter}{n}"><v>{v}</v></c>')
            elif isinstance(v, str):
                xml.append(v)
        cells.append(f'<row r="{n}">{"".join(xml)}</row>')
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(cells)}</sheetData></worksheet>',
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}" count="{len(shared)}" uniqueCount="{len(shared)}">'
        + "".join(f"<si>{si}</si>" for si in shared)
        + "</sst>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return out.getvalue()


def sheet_rows(content: bytes) -> list[list[str]]:
    """A sheet's rows, each as long as the longest (a row ends at its last cell that is not empty)."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    found = [["" if c is None else c for c in r] for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    width = max(len(r) for r in found)
    return [r + [""] * (width - len(r)) for r in found]


async def test_an_xlsx_export_is_the_csv_export_as_a_workbook_and_imports_back_unchanged(
    api: httpx.AsyncClient, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    await catalog(conn)
    await imported(api, conn, jsonl(row("sq-1"), row("sq-2", categories=[], series=[], selling_points=[]), row("sq-3")))
    before = (await api.get("/v1/products")).json()["items"]
    monkeypatch.setattr(exports, "CHUNK", 2)  # the sheet goes on across chunks of products
    exported = await api.get("/v1/exports", params={"type": "products", "format": "xlsx"})
    assert exported.status_code == 200
    assert exported.headers["content-type"] == XLSX["content-type"]
    assert exported.headers["content-disposition"] == 'attachment; filename="products.xlsx"'
    as_csv = (await api.get("/v1/exports", params={"type": "products", "format": "csv"})).content.decode("utf-8-sig")
    table = sheet_rows(exported.content)
    assert table == list(csv.reader(io.StringIO(as_csv, newline="")))
    assert [r[0] for r in table] == ["code", "sq-1", "sq-2", "sq-3"]
    job = await imported(api, conn, exported.content, headers=XLSX)
    assert (job["state"], job["rows"]) == ("done", {"read": 3, "applied": 0, "unchanged": 3, "rejected": 0})
    assert (await api.get("/v1/products")).json()["items"] == before

    # edited and saved as Excel saves (shared strings): a number typed as a number is the CSV's text of it
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    book.worksheets[0].cell(row=3, column=table[0].index("attr:width") + 1, value=120)
    out = io.BytesIO()
    book.save(out)
    job = await imported(api, conn, out.getvalue(), headers=XLSX)
    assert job["rows"] == {"read": 3, "applied": 1, "unchanged": 2, "rejected": 0}
    sq2 = (await api.get("/v1/products/sq-2")).json()
    assert (sq2["version"], sq2["attributes"]["width"]) == (2, 120)


async def test_text_xml_cannot_hold_is_written_as_excel_escapes_it_and_read_back(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    text = "  Tabs\tand\r\nbreaks & <tags> _x0041_ \x01"
    await imported(api, conn, jsonl(row("sq-1", labels={"en": text})))
    exported = (await api.get("/v1/exports", params={"type": "products", "format": "xlsx"})).content
    table = sheet_rows(exported)
    # `_xHHHH_` for a character XML cannot hold, and a literal `_xHHHH_` escaped in turn
    assert table[1][table[0].index("labels[en]")] == "  Tabs\tand\r\nbreaks & <tags> _x005F_x0041_ _x0001_"
    assert cell_text(table[1][table[0].index("labels[en]")]) == text
    job = await imported(api, conn, exported, headers=XLSX)
    assert job["rows"] == {"read": 1, "applied": 0, "unchanged": 1, "rejected": 0}
    assert (await api.get("/v1/products/sq-1")).json()["labels"] == {"en": text}


async def test_excel_typed_cells_import_as_their_text(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    body = workbook(
        ["code", "category", "role", "attr:width", "attr:weight", "attr:soft", "attr:length[cm]", "labels[en]"],
        ["sq-1", "scarves", "routine", 90, 35.5, True, 90.0, 2026],
    )
    job = await imported(api, conn, body, headers=XLSX)
    assert job["rows"] == {"read": 1, "applied": 1, "unchanged": 0, "rejected": 0}
    sq1 = (await api.get("/v1/products/sq-1")).json()
    assert sq1["labels"] == {"en": "2026"}
    assert sq1["attributes"] == {
        "width": 90,
        "weight": "35.5",
        "soft": True,
        "length": {"value": "90", "unit": "cm"},
    }


async def test_a_workbook_as_excel_writes_it_reads_its_shared_strings_plain_and_escaped(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    shared = [
        "<t>code</t>", "<t>category</t>", "<t>role</t>", "<t>labels[en]</t>", "<t>attr:width</t>",
        "<t>scarves</t>", "<t>routine</t>", "<t>sq-1</t>", "<t>sq-2</t>",
        '<r><t xml:space="preserve">Silk </t></r><r><rPr><b/></rPr><t>one</t></r><rPh sb="0" eb="1"><t>シ</t></rPh>',
        "<t>Two_x000D_\nlines _x005F_x0041_</t>",
    ]  # fmt: skip
    body = excel_workbook(
        [[0, 1, 2, 3, 4], [7, 5, 6, 9, 90.0], [8, 5, 6, 10, '<c r="E3" t="str"><f>45*2</f><v>90</v></c>']], shared
    )
    job = await imported(api, conn, body, headers=XLSX)
    assert job["rows"] == {"read": 2, "applied": 2, "unchanged": 0, "rejected": 0}
    products = {p["code"]: p for p in (await api.get("/v1/products")).json()["items"]}
    assert (products["sq-1"]["labels"], products["sq-1"]["attributes"]) == ({"en": "Silk one"}, {"width": 90})
    assert (products["sq-2"]["labels"], products["sq-2"]["attributes"]) == (
        {"en": "Two\r\nlines _x0041_"},
        {"width": 90},  # a formula's value as Excel last computed it
    )
    beyond = await upload(api, excel_workbook([[0, 1, 2], [7, 5, 99]], shared), headers=XLSX)
    assert (beyond.status_code, beyond.json()["errors"][0]["code"]) == (400, "invalid_xlsx")


async def test_xlsx_rows_are_named_by_row_number_and_column_letter(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    body = workbook(
        ["code", "category", "role", "attr:width", "attr:length", "attr:soft"],
        ["a-1", "scarves", "routine", "wide", "90 cm", True],
        ["a-2", "scarves", "routine", 90],  # trailing cells left empty: not ragged
        [],  # a blank row is skipped; the rows after it keep their numbers
        ["a-3", "scarves", "routine", 500, "9 lb", "maybe"],
        ["a-1", "scarves", "routine", None, "90\ncm", None],
        ["a-4", "scarves", "routine", None, None, None, None, "beyond"],
    )
    job = await imported(api, conn, body, headers=XLSX, mode="valid_rows")
    assert job["rows"] == {"read": 5, "applied": 1, "unchanged": 0, "rejected": 4}
    assert [(e["line"], e["column"], e["pointer"], e["code"]) for e in await report(api, job["id"])] == [
        (2, "D (attr:width)", "/attributes/width", "wrong_type"),
        (5, "E (attr:length)", "/attributes/length/unit", "unknown_unit"),
        (5, "F (attr:soft)", "/attributes/soft", "wrong_type"),
        (5, "D (attr:width)", "/attributes/width", "out_of_range"),
        (6, "E (attr:length)", "/attributes/length/value", "wrong_type"),
        (6, "A (code)", "/code", "duplicate_code"),
        (7, "H", None, "ragged_row"),
    ]
    assert [p["code"] for p in (await api.get("/v1/products")).json()["items"]] == ["a-2"]
    reported = await report(api, job["id"], "csv")
    assert reported[-1] == {
        "line": "7",
        "column": "H",
        "pointer": "",
        "code": "ragged_row",
        "message": "Cell H7 is right of the header's last column.",
    }


async def test_an_xlsx_that_cannot_be_read_as_a_whole_is_a_400_and_imports_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    no_workbook = io.BytesIO()
    with zipfile.ZipFile(no_workbook, "w") as z:
        z.writestr("hello.txt", "a zip, not a workbook")
    good = workbook(["code", "category", "role"], ["sq-1", "scarves", "routine"])
    for body in (b"code,category,role\nsq-1,scarves,routine\n", no_workbook.getvalue(), good[: len(good) // 2]):
        answer = await upload(api, body, headers=XLSX)
        assert answer.status_code == 400, answer.text
        problem = answer.json()
        assert (problem["code"], problem["errors"]) == (
            "invalid-upload",
            [{"pointer": "/lines/1", "code": "invalid_xlsx", "message": "The file is not a readable XLSX workbook."}],
        )
    empty = await upload(api, workbook(), headers=XLSX)  # a workbook whose sheet has no row
    assert (empty.status_code, empty.json()["code"]) == (400, "invalid-upload"), empty.text
    assert [(e["pointer"], e["code"]) for e in empty.json()["errors"]] == [("/lines/1", "missing_header")]
    assert "sheet is empty" in empty.json()["errors"][0]["message"]
    bad_header = await upload(api, workbook(["code", "category", "attr:nope"], ["sq-1", "scarves"]), headers=XLSX)
    assert bad_header.status_code == 400
    assert [(e["pointer"], e["code"]) for e in bad_header.json()["errors"]] == [
        ("/lines/1/attr:nope", "unknown_attribute"),
        ("/lines/1/role", "missing_column"),
    ]
    assert (await api.get("/v1/jobs")).json()["items"] == []
    assert (await api.get("/v1/products")).json()["items"] == []


async def test_a_report_is_jsonl_or_csv_and_never_xlsx(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    job = await imported(
        api, conn, workbook(["code", "category", "role"], ["sq-1", "nowhere", "routine"]), headers=XLSX
    )
    answer = await api.get(f"/v1/imports/{job['id']}/errors", params={"format": "xlsx"})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["parameter"] == "format"
    assert [(e["line"], e["column"], e["code"]) for e in await report(api, job["id"])] == [
        (2, "B (category)", "unknown_category")
    ]


async def test_skus_round_trip_through_xlsx_and_a_duplicate_is_named_by_its_column_letter(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await sku_tests.catalog(conn)
    gold = sku_tests.row("sq2-gold", product="sq-2", barcode=sku_tests.GOLD, axes={"colour": "gold"}, attributes={})
    await sku_tests.imported(api, conn, jsonl(sku_tests.row("sq1-red"), gold))
    book = await sku_tests.exported(api, "xlsx")
    table = sheet_rows(book)
    as_csv = (await sku_tests.exported(api, "csv")).decode("utf-8-sig")
    assert table == list(csv.reader(io.StringIO(as_csv, newline="")))
    assert [r[0] for r in table] == ["sku", "sq1-red", "sq2-gold", "taken-1"]
    job = await sku_tests.imported(api, conn, book, headers=XLSX)
    assert job["rows"] == {"read": 3, "applied": 0, "unchanged": 3, "rejected": 0}
    twice = workbook(table[0], table[1], table[1])
    job = await sku_tests.imported(api, conn, twice, headers=XLSX, mode="valid_rows")
    assert [(e["line"], e["column"], e["code"]) for e in await report(api, job["id"])] == [
        (3, "A (sku)", "duplicate_code")
    ]


async def test_a_workbook_holding_a_text_longer_than_a_row_is_a_400_before_it_is_parsed(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """A few hundred KB of zip inflate to a cell of hundreds of MB, which the XML parser would hold whole: a text
    well over the row limit (inline or shared, within one 4 MiB scan chunk or longer than one) refuses the upload
    first; one at the limit is left to the row's own check, in one chunk or across two."""
    await catalog(conn)
    limit = MAX_ROW_BYTES
    for text in ("x" * (2 * limit), "y" * (9 << 20)):
        for body in (
            excel_workbook([[f'<c r="A1" t="inlineStr"><is><t>{text}</t></is></c>']], []),
            excel_workbook([[0]], [f"<t>{text}</t>"]),
        ):
            assert len(body) < 64 << 10  # (a small upload)
            answer = await upload(api, body, headers=XLSX)
            assert answer.status_code == 400, answer.text
            assert answer.json()["errors"] == [
                {"pointer": "/lines/1", "code": "row_too_large", "message": f"A row may be at most {limit} bytes."}
            ]
    assert (await api.get("/v1/jobs")).json()["items"] == []
    # a text of exactly the limit, alone in a chunk or across two of the scan's, is no reason to refuse a workbook
    long_cell = f'<c r="A1" t="inlineStr"><is><t>{"z" * limit}</t></is></c>'
    pad = '<c r="B1"><v>1</v></c>'
    for padding in (0, (SCAN_CHUNK - limit // 2) // len(pad)):
        refuse_long_texts(io.BytesIO(excel_workbook([[pad * padding + long_cell]], [])))
