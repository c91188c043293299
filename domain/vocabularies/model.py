"""Vocabularies: series (系列), product roles (产品角色), attribute groups and return reasons (退货原因) —
shapes and errors.

They are the same shape — a code, labels and a description — and follow the same rules, so one
service serves them; a `Vocabulary` says which one a call is about (its store knows its table and its
"what still uses it" query).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

import msgspec

from domain.errors import Conflict, NotFound
from domain.types import Code, Labels, LabelText, Locale, LongText

# (no empty text: the tables' is_label_map checks refuse one — it reached them as a 409 constraint-violation)
Descriptions = dict[Locale, Annotated[LongText, msgspec.Meta(min_length=1)]]


class TermFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a series, role or attribute group (body of PUT)."""

    labels: Labels = {}
    description: Descriptions = {}


class TermCreate(TermFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST."""

    code: Code


class TermPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch: absent fields stay; `null` for a locale removes it."""

    labels: dict[Locale, LabelText | None] | msgspec.UnsetType = msgspec.UNSET
    description: dict[Locale, Annotated[LongText, msgspec.Meta(min_length=1)] | None] | msgspec.UnsetType = (
        msgspec.UNSET
    )


class Term(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    labels: dict[str, str]
    description: dict[str, str]
    version: int
    created_at: datetime
    updated_at: datetime


class TermPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of series, roles or attribute groups."""

    items: list[Term]
    next_cursor: str | None


# Errors: one class per vocabulary and problem, on two bases that carry the message.


class TermNotFound(NotFound):
    """Base of the not-found errors of the vocabularies (no code of its own)."""

    noun: ClassVar[str] = ""

    def __init__(self, code: str) -> None:
        super().__init__(f"No {self.noun} has the code {code!r}.")


class TermExists(Conflict):
    """Base of the taken-code errors of the vocabularies (no code of its own)."""

    noun: ClassVar[str] = ""

    def __init__(self, code: str) -> None:
        super().__init__(f"A {self.noun} with the code {code!r} exists already.")


class SeriesNotFound(TermNotFound):
    """No series has the code the request names."""

    code = "series-not-found"
    noun = "series"


class SeriesExists(TermExists):
    """A series with the code exists already."""

    code = "series-exists"
    noun = "series"


class RoleNotFound(TermNotFound):
    """No product role has the code the request names."""

    code = "role-not-found"
    noun = "role"


class RoleExists(TermExists):
    """A product role with the code exists already."""

    code = "role-exists"
    noun = "role"


class AttributeGroupNotFound(TermNotFound):
    """No attribute group has the code the request names."""

    code = "attribute-group-not-found"
    noun = "attribute group"


class AttributeGroupExists(TermExists):
    """An attribute group with the code exists already."""

    code = "attribute-group-exists"
    noun = "attribute group"


class ReturnReasonNotFound(TermNotFound):
    """No return reason has the code the request names."""

    code = "return-reason-not-found"
    noun = "return reason"


class ReturnReasonExists(TermExists):
    """A return reason with the code exists already."""

    code = "return-reason-exists"
    noun = "return reason"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    entity: str  # audit entity, e.g. "series"
    title: str  # for messages, e.g. "Series"
    referenced_by: str  # what the references are, e.g. "products"
    not_found: type[TermNotFound]
    exists: type[TermExists]


SERIES = Vocabulary("series", "Series", "products", SeriesNotFound, SeriesExists)
ROLES = Vocabulary("role", "Role", "products", RoleNotFound, RoleExists)
ATTRIBUTE_GROUPS = Vocabulary(
    "attribute-group", "Attribute group", "attributes", AttributeGroupNotFound, AttributeGroupExists
)
RETURN_REASONS = Vocabulary("return-reason", "Return reason", "returns", ReturnReasonNotFound, ReturnReasonExists)
