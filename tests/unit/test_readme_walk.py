"""How the README's walkthroughs are read and their answers compared (tests/readme_walk.py): the checks the
walkthrough test relies on must be able to fail."""

from __future__ import annotations

import pytest

from tests.readme_walk import ReadmeError, blocks, expectation, mismatches, pattern

README = """# title

## Section one

```sh
KEY=$(cat .merchflow/demo-admin.key)
# prose, not checked
curl -s localhost:8000/v1/things \\
     -d '{"a": [
  1, 2]}'
#   → 201  Location: /v1/things/1  ETag: "1"
#     {"code": "x", …}
curl -s localhost:8000/v1/other        # a description
```

```sh
make run
```

### Section two

```sh
curl -s localhost:8000/v1/more
#   → 409 {"code": "gate-not-met", …}
# next step
curl -s localhost:8000/v1/last
```
"""


def test_blocks_with_curl_are_read_command_by_command_with_their_readme_lines_and_answers() -> None:
    found = blocks(README)
    assert [(b.line, b.section) for b in found] == [(5, "Section one"), (22, "Section two")]
    first = found[0].commands
    assert [(c.line, c.text.splitlines()[0]) for c in first] == [
        (6, "KEY=$(cat .merchflow/demo-admin.key)"),
        (8, "curl -s localhost:8000/v1/things \\"),
        (13, "curl -s localhost:8000/v1/other        # a description"),
    ]
    assert first[1].text.endswith("2]}'")
    expect = first[1].expect
    assert expect is not None
    assert (expect.line, expect.status, expect.headers) == (11, 201, [("Location", "/v1/things/1"), ("ETag", '"1"')])
    assert pattern(expect.body) == {"code": "x", "…": "…"}
    assert first[0].expect is None and first[2].expect is None
    second = found[1].commands
    assert [c.expect.status if c.expect else None for c in second] == [409, None]


def test_an_answer_in_a_comment_at_the_end_of_a_command_is_refused() -> None:
    with pytest.raises(ReadmeError, match=r"README.md:4: an answer in a comment"):
        blocks('## S\n\n```sh\ncurl -s localhost:8000/v1/jobs/7   # {"state": "running"}\n```\n')


def test_a_malformed_answer_is_refused_with_its_line() -> None:
    with pytest.raises(ReadmeError, match=r"README.md:4: the answer is not JSON"):
        blocks('## S\n```sh\ncurl -s localhost:8000/v1/x\n#   → {"a": [… prose …]}\n```\n')


def test_an_object_without_an_ellipsis_has_exactly_the_members_shown() -> None:
    assert mismatches(pattern('{"a": 1}'), {"a": 1}) == []
    assert mismatches(pattern('{"a": 1}'), {"a": 1, "b": 2}) == ["the body: members not shown (add …): b"]
    assert mismatches(pattern('{"a": 1, …}'), {"a": 1, "b": 2}) == []
    assert mismatches(pattern('{"a": 1, …}'), {"b": 2}) == ["/a: missing"]
    assert mismatches(pattern('{"a": {"b": 4}}'), {"a": {"b": 5}}) == ["/a/b: expected 4, got 5"]


def test_a_list_has_the_items_shown_in_order_and_an_ellipsis_item_stands_for_any_run_of_items() -> None:
    assert mismatches(pattern("[1, 2]"), [1, 2]) == []
    assert mismatches(pattern("[1, 2]"), [2, 1]) == ["[0]: expected 1, got 2"]
    assert mismatches(pattern("[1]"), [1, 2]) != []
    assert mismatches(pattern("[1, …]"), [1, 2, 3]) == []
    assert mismatches(pattern("[…, 3]"), [1, 2, 3]) == []
    assert mismatches(pattern("[1, …, 3, …]"), [1, 2, 3, 4]) == []
    assert mismatches(pattern("[…, 5]"), [1, 2, 3]) != []
    assert mismatches(pattern("[…]"), []) == []
    assert mismatches(pattern("[1, 2, 3]"), [1, 2]) != []


def test_an_ellipsis_value_is_anything_and_inside_a_string_any_text() -> None:
    assert mismatches(pattern('{"at": "…", "n": …}'), {"at": "2026-11-30T08:00:00Z", "n": None}) == []
    assert mismatches(pattern('{"etag": "a96…"}'), {"etag": "a9686b4f"}) == []
    assert mismatches(pattern('{"etag": "a96…"}'), {"etag": "b9686b4f"}) != []
    assert mismatches(pattern('{"d": "… missing: hs-code."}'), {"d": "p cannot become sourced"}) != []


def test_numbers_booleans_and_null_are_compared_exactly() -> None:
    assert mismatches(pattern('{"ratio": 1.0}'), {"ratio": 1}) == []
    assert mismatches(pattern('{"ok": true}'), {"ok": 1}) != []
    assert mismatches(pattern('{"n": 1}'), {"n": True}) != []
    assert mismatches(pattern('{"v": null}'), {"v": 0}) != []
    assert mismatches(pattern('{"v": "1"}'), {"v": 1}) != []


def test_an_expectation_reads_a_status_headers_and_a_text_body() -> None:
    csv = expectation(1, ["200  Content-Type: text/csv…", "warehouse,category", "…"])
    assert (csv.status, csv.headers, csv.body) == (200, [("Content-Type", "text/csv…")], "warehouse,category\n…")
    assert expectation(1, ["304"]).status == 304
    assert expectation(1, ["304"]).body == ""
