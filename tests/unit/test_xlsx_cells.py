"""XLSX cells as the CSV's text, and column letters: pure rules of domain/imports/xlsx.py."""

from __future__ import annotations

from datetime import date, datetime, time

from domain.imports.xlsx import cell_text, column_letter


def test_column_letters_go_on_past_z_as_a_spreadsheet_counts() -> None:
    assert [column_letter(n) for n in (1, 8, 26, 27, 52, 53, 702, 703, 16384)] == [
        "A", "H", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD",
    ]  # fmt: skip


def test_cells_excel_typed_read_as_the_text_a_csv_holds() -> None:
    assert [cell_text(v) for v in (None, True, False, 90, 90.0, 35.5, 0.1, -3.0, 1e20)] == [
        "", "true", "false", "90", "90", "35.5", "0.1", "-3", "1e+20",
    ]  # fmt: skip
    assert cell_text(datetime(2026, 11, 30)) == "2026-11-30"
    assert cell_text(datetime(2026, 11, 30, 9, 5)) == "2026-11-30T09:05:00"
    assert (cell_text(date(2026, 1, 2)), cell_text(time(8, 30))) == ("2026-01-02", "08:30:00")
    assert cell_text("a _x000D_ b _x005F_x0041_ _x00") == "a \r b _x0041_ _x00"
