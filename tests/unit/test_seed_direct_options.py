"""`merch seed scale --direct` refuses the import path's options rather than ignoring them."""

from __future__ import annotations

import pytest

from api import cli


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--seed", "7"], "--seed"),
        (["--seed", "1"], "--seed"),
        (["--out", "/nowhere"], "--out"),
        (["--keep-files"], "--keep-files"),
        (["--force"], "--force"),
        (["--skip", "stock"], "--skip"),
        (["--force", "--skip", "stock"], "--force, --skip"),
    ],
)
def test_direct_with_an_import_path_option_is_refused_before_any_database(
    extra: list[str], named: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # (never reached)
    assert cli.main(["seed", "scale", "--direct", "--products", "10", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"merch: {named}: options of the import path, which --direct does not take"), err


def test_the_import_path_takes_them() -> None:
    from api import seeding

    args = cli.parser().parse_args(["seed", "scale", "--seed", "7", "--force", "--skip", "stock"])
    assert seeding.direct_misuse(args) is None
    assert cli.parser().parse_args(["seed", "scale"]).seed is None  # (the run takes 1)
