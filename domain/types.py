"""Constraint aliases and small shapes shared by every area."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

CODE_PATTERN = "^[a-z0-9][a-z0-9_-]{0,63}$"
# White space in a pattern's character class, the same to Python's re (msgspec) and to a JSON Schema reader
# (ECMA-262): to Python \x1c-\x1f and \x85 are white space and \ufeff is not, to ECMA-262 the reverse.
SPACE = r"\s\x1c-\x1f\x85\ufeff"
LOCALE_PATTERN = "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

Code = Annotated[
    str,
    msgspec.Meta(
        pattern=CODE_PATTERN,
        min_length=1,
        max_length=64,
        description="A stable identifier: lower-case letters, digits, `_` and `-`, at most 64 characters.",
        examples=["silk-scarves"],
    ),
]
SKU_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SkuCode = Annotated[
    str,
    msgspec.Meta(
        pattern=SKU_PATTERN,
        min_length=1,
        max_length=64,
        description="A SKU code: letters, digits, `_`, `.` and `-`, at most 64 characters.",
        examples=["SCARF-SQ90-RED"],
    ),
]
# The stages of a product's flow, in the order it goes through them.
Stage = Literal["purchasing", "warehousing", "listing", "marketing", "service", "finance"]
STAGES: tuple[Stage, ...] = ("purchasing", "warehousing", "listing", "marketing", "service", "finance")
Locale = Annotated[str, msgspec.Meta(pattern=LOCALE_PATTERN, max_length=35, examples=["zh-CN", "en"])]
LabelText = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
LongText = Annotated[str, msgspec.Meta(max_length=20_000)]
Labels = Annotated[
    dict[Locale, LabelText],
    msgspec.Meta(
        description="A locale map of display names.",
        examples=[{"zh-CN": "真丝方巾", "en": "Silk square scarf"}],
    ),
]
Position = Annotated[int, msgspec.Meta(ge=0, le=1_000_000, description="0-based position among siblings.")]
Version = Annotated[int, msgspec.Meta(ge=1, description="Increases by one on every change; sent as the ETag.")]
Limit = Annotated[int, msgspec.Meta(ge=1, le=500)]
