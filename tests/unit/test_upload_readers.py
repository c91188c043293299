"""The readers of an upload as it streams in (domain/imports/formats.py): the same lines and records whatever the
chunks the body arrives in, and the row limit exactly at its bound; and a CSV header's unit columns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.attributes.values import AttributeDef, Validation
from domain.imports.formats import TOO_LARGE, csv_records, jsonl_lines, read_header
from domain.imports.model import MAX_ROW_BYTES, InvalidUpload


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _collect(reader: Any, parts: list[bytes]) -> list[Any]:
    async def run() -> list[Any]:
        return [item async for item in reader(_chunks(parts))]

    return asyncio.run(run())


def _every_split(body: bytes, start: int = 0) -> list[list[bytes]]:
    """The body whole, byte by byte, and cut in two at every position from `start` (empty chunks included)."""
    head, rest = body[:start], body[start:]
    return [[body], [head] + [rest[i : i + 1] for i in range(len(rest))]] + [
        [body[:i], body[i:]] for i in range(start, len(body) + 1)
    ]


# A BOM begins the body; another (U+FEFF) inside a value is text, wherever a chunk begins.
JSONL = b'\xef\xbb\xbf{"code": "a"}\n\n  \n{"code": "b\xef\xbb\xbf"}\r\n\n{"code": "c"}'
CSV = 'code,labels[en]\n"sq-1","two\nlines"\n\nsq-2,"a ""quoted"" word"\r\nsq-3,é\n'.encode()


def test_jsonl_lines_are_the_same_in_any_chunks_numbered_from_1_skipping_blank_ones_and_the_bom() -> None:
    expected = [(1, b'{"code": "a"}'), (4, b'{"code": "b\xef\xbb\xbf"}\r'), (6, b'{"code": "c"}')]
    # (Not cut inside the BOM: a first chunk shorter than three bytes keeps it — see the report of issue 16.)
    for parts in _every_split(JSONL, start=3):
        assert _collect(jsonl_lines, parts) == expected, parts


def test_csv_records_are_the_same_in_any_chunks_each_at_the_line_it_starts_on() -> None:
    expected = [
        (1, ["code", "labels[en]"]),
        (2, ["sq-1", "two\nlines"]),
        (5, ["sq-2", 'a "quoted" word']),
        (6, ["sq-3", "é"]),
    ]
    for parts in _every_split(b"\xef\xbb\xbf" + CSV):
        assert _collect(csv_records, parts) == expected, parts


def test_a_jsonl_line_of_exactly_the_row_limit_is_read_and_one_byte_more_is_too_large() -> None:
    at_limit = b'"' + b"x" * (MAX_ROW_BYTES - 2) + b'"'
    over = at_limit + b" "
    for parts in ([at_limit + b"\n" + over + b"\n1"], [at_limit, b"\n", over[:10], over[10:] + b"\n1"]):
        assert _collect(jsonl_lines, parts) == [(1, at_limit), (2, TOO_LARGE), (3, b"1")]
    assert _collect(jsonl_lines, [b"1\n", over]) == [(1, b"1"), (2, TOO_LARGE)]


def test_a_csv_record_of_exactly_the_row_limit_is_read_and_one_byte_more_refuses_the_upload() -> None:
    cells = ["x" * 1023] * 1024  # with the commas and the line break: the limit
    record = ",".join(cells).encode()
    assert len(record) + 1 == MAX_ROW_BYTES
    assert _collect(csv_records, [b"code\n", record + b"\n", b"y\n"]) == [(1, ["code"]), (2, cells), (3, ["y"])]
    assert _collect(csv_records, [record + b"\n", b"y\n"]) == [(1, cells), (2, ["y"])]
    # The last record, with no line break, may hold one byte more: the limit, then the end of the body.
    last = [*cells[:-1], cells[-1] + "x"]
    assert _collect(csv_records, [b"code\n", record + b"x", b""]) == [(1, ["code"]), (2, last)]
    with pytest.raises(InvalidUpload) as first:
        _collect(csv_records, [record + b"x\n", b"y\n"])
    assert [(e.pointer, e.code) for e in first.value.errors] == [("/lines/1", "row_too_large")]
    for parts in ([b"code\n" + record + b"x\ny\n"], [b"code\n", record, b"x\n"], [b"code\n", record, b"xy"]):
        with pytest.raises(InvalidUpload) as refused:
            _collect(csv_records, parts)
        assert [(e.pointer, e.code) for e in refused.value.errors] == [("/lines/2", "row_too_large")]


def test_a_csv_cell_larger_than_pythons_default_field_limit_is_read_when_its_row_is_within_the_row_limit() -> None:
    """Python's csv module refuses a field over 131,072 characters by default (`_csv.Error`): a cell of 300 KB in
    a row within MAX_ROW_BYTES is a row like any other."""
    cell = "x" * 300_000
    body = f'code,labels[en]\nbig,"{cell}"\nsmall,y\n'.encode()
    assert _collect(csv_records, [body]) == [(1, ["code", "labels[en]"]), (2, ["big", cell]), (3, ["small", "y"])]


@pytest.mark.parametrize(
    ("body", "records"),
    [
        (b'code\n"sq-1"', [(1, ["code"]), (2, ["sq-1"])]),
        (b'code\n"a ""b"""', [(1, ["code"]), (2, ['a "b"'])]),
        (b'code\n"a\nb"', [(1, ["code"]), (2, ["a\nb"])]),
    ],
)
def test_a_csv_whose_last_record_has_no_line_break_ends_with_its_quotes_closed(
    body: bytes, records: list[tuple[int, list[str]]]
) -> None:
    assert _collect(csv_records, [body]) == records


@pytest.mark.parametrize("body", [b'code\n"sq-1', b'code\n"a ""b""', b'code\nsq-1,"a\n'])
def test_a_csv_ending_inside_a_quoted_cell_is_refused_at_the_line_the_cell_opens_on(body: bytes) -> None:
    with pytest.raises(InvalidUpload) as refused:
        _collect(csv_records, [body])
    assert [(e.pointer, e.code) for e in refused.value.errors] == [("/lines/2", "unclosed_quote")]


def test_bytes_that_are_not_utf8_refuse_a_csv_naming_their_line_in_any_chunks() -> None:
    body = "code\nsq-1,é\n".encode() + b"sq-2,\xff\nsq-3\n"
    for parts in _every_split(body):
        with pytest.raises(InvalidUpload) as refused:
            _collect(csv_records, parts)
        assert [(e.pointer, e.code) for e in refused.value.errors] == [("/lines/3", "invalid_encoding")], parts


def test_a_csv_measurement_column_takes_a_unit_of_its_attributes_family_length_when_it_names_none() -> None:
    attributes = {
        "weight": AttributeDef(code="weight", type="measurement", validation=Validation(unit_family="mass")),
        "width": AttributeDef(code="width", type="measurement"),
    }
    header = read_header(["code", "category", "role", "attr:weight[kg]", "attr:width[cm]"], attributes)
    assert [(c.key, c.unit) for c in header.columns[3:]] == [("weight", "kg"), ("width", "cm")]
    with pytest.raises(InvalidUpload) as refused:
        read_header(["code", "category", "role", "attr:weight[cm]", "attr:width[kg]"], attributes)
    assert [(e.pointer, e.code) for e in refused.value.errors] == [
        ("/lines/1/attr:weight[cm]", "unknown_unit"),
        ("/lines/1/attr:width[kg]", "unknown_unit"),
    ]
