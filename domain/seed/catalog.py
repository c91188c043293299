"""The scale catalog as import files: a synthetic catalog shaped like a large real one (Akeneo's "large"
reference catalog: about 4,000 categories, 1,000 attributes and 1,000,000 products, scaled down for fewer
products), written as JSON Lines files of the import types in dependency order, a row at a time (constant
memory), the same bytes for the same products and seed (and stored price start: below).

What the import types do not carry (category trees, series, suppliers, warehouses and their bins) is
`Structure`: the seed writes it through the API's own upserts before the files. Pure: no database here.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.skus.gtin import check_digit

TREE = "scale"  # the merchandise tree (major › middle › minor), as the benchmarks' direct writer names it
WEB_TREE = "scale-web"  # the storefront tree products are placed in (shelf › section)
ROLES = ("destination", "image", "promotion", "routine")  # the built-in roles
TIERS = ("manufacturer", "agent", "wholesaler", "trading_company")
TYPES = ("text", "integer", "decimal", "select", "boolean", "measurement", "multiselect", "date", "textarea", "url")
STAGE_SETS: tuple[tuple[str, ...], ...] = (
    ("listing",),
    ("purchasing",),
    ("warehousing",),
    ("listing", "marketing"),
    (),
    ("finance",),
    ("service",),
)
RULES: dict[str, dict[str, Any]] = {
    "text": {"max_length": 200},
    "integer": {"min": 0, "max": 1000},
    "decimal": {"decimals": 1},
    "measurement": {"unit_family": "length", "default_unit": "cm"},
}
OPTIONS = 8  # of every select and multiselect attribute
COMPLETE_EVERY = 50  # one product in this many has every value, price, term and count: the seed lists it
CURRENCY = "CNY"

# The files in the order they load: each names only what is stored or in an earlier file.
KINDS = ("categories", "attributes", "attribute_sets", "products", "skus", "prices", "supplier_terms", "stock")


# The least structure of `merch seed scale` (at 2,000 leaves: 2,110 merchandise and 210 storefront categories).
LEAVES_FLOOR = 2_000
ATTRIBUTES_FLOOR = 200


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


@dataclass(frozen=True, slots=True)
class Shape:
    """How large each part of the catalog is for a number of products (1,000,000: 20 majors × 10 middles ×
    20 minors = 4,000 leaves, 4,220 merchandise categories and 420 storefront ones, 1,000 attributes)."""

    products: int
    majors: int
    middles: int  # under each major
    minors: int  # under each middle
    shelves: int
    sections: int  # under each shelf
    attributes: int
    series: int
    suppliers: int
    warehouses: int
    bins: int  # in each warehouse

    @classmethod
    def of(cls, products: int, *, floor: bool = True) -> Shape:
        """The shape for `products`: with `floor` (what `merch seed scale` makes), never less than a large real
        catalog's structure — thousands of categories, hundreds of attributes (DOMAIN.md) — whatever the count;
        without it (the tests' small catalogs), scaled down with the count."""
        leaves = _clamp(products // 250, LEAVES_FLOOR if floor else 8, 4000)
        majors = _clamp(math.ceil(leaves / 200), 2, 20)
        middles = _clamp(math.ceil(leaves / (majors * 20)), 1, 10)
        sections_total = _clamp(leaves // 10, 4, 400)
        shelves = _clamp(sections_total // 20, 2, 20)
        return cls(
            products=products,
            majors=majors,
            middles=middles,
            minors=math.ceil(leaves / (majors * middles)),
            shelves=shelves,
            sections=math.ceil(sections_total / shelves),
            attributes=_clamp(products // 1000, ATTRIBUTES_FLOOR if floor else 30, 1000),
            series=_clamp(products // 5000, 4, 200),
            suppliers=_clamp(products // 2000, 4, 500),
            warehouses=2,
            bins=_clamp(products // 10_000, 4, 100),
        )

    @property
    def categories(self) -> int:
        merch = self.majors * (1 + self.middles * (1 + self.minors))
        return merch + self.shelves * (1 + self.sections)


@dataclass(frozen=True, slots=True)
class Attribute:
    code: str
    type: str
    validation: dict[str, Any]
    required_for: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Listed:
    """A product the seed lists, and the stock it receives first (into its warehouse's first bin)."""

    product: str
    sku: str
    warehouse: str
    qty: int
    location: str = "A-000"


@dataclass(frozen=True, slots=True)
class Structure:
    """What the seed writes through the API's upserts before the files (no import type carries it)."""

    trees: list[tuple[str, dict[str, str], list[str]]]  # code, labels, level names
    series: list[tuple[str, dict[str, str]]]
    suppliers: list[tuple[str, str, dict[str, str]]]  # code, tier, labels
    warehouses: list[tuple[str, dict[str, str], list[tuple[str, str, int]]]]  # code, labels, bins (code, zone, seq)


class Catalog:
    """The scale catalog of `products` products for a seed. Its prices start when they are imported (a price
    never starts in the past), all at the same moment (the import settles them in one statement): `epoch`,
    when the catalog is seeded already, is that moment, so that the same periods come back unchanged."""

    def __init__(self, products: int, *, seed: int, epoch: datetime | None = None, floor: bool = True) -> None:
        self.shape = Shape.of(products, floor=floor)
        self.seed = seed
        self.epoch = epoch.isoformat() if epoch is not None else None
        s = self.shape
        self.attributes = [self._attribute(i) for i in range(s.attributes)]
        # Attribute pools per level (disjoint, so that no leaf inherits an attribute twice): a major binds 6,
        # a middle 2, a minor 2 — about 10 values a product.
        third = s.attributes * 3 // 10
        self._pools = (range(0, third), range(third, 2 * third), range(2 * third, s.attributes))
        self.leaves: list[tuple[str, list[Attribute]]] = []
        for major, middle, minor in self._merch_paths():
            if minor is None or middle is None:
                continue
            bound = self._bound(1, major) + self._bound(2, major * s.middles + middle)
            bound += self._bound(3, (major * s.middles + middle) * s.minors + minor)
            self.leaves.append((_merch_code(major, middle, minor), bound))
        self.sections = [_web_code(shelf, section) for shelf in range(s.shelves) for section in range(s.sections)]

    def structure(self) -> Structure:
        s = self.shape
        return Structure(
            trees=[
                (TREE, {"zh-CN": "规模测试", "en": "Scale catalog"}, ["major", "middle", "minor"]),
                (WEB_TREE, {"zh-CN": "规模测试·网店", "en": "Scale catalog · web"}, ["shelf", "section"]),
            ],
            series=[(f"ss-{i:03d}", {"zh-CN": f"系列 {i}", "en": f"Series {i}"}) for i in range(s.series)],
            suppliers=[
                (f"su-{i:03d}", TIERS[i % len(TIERS)], {"zh-CN": f"供应商 {i}", "en": f"Supplier {i}"})
                for i in range(s.suppliers)
            ],
            warehouses=[
                (
                    f"sw-{w}",
                    {"zh-CN": f"仓库 {w}", "en": f"Warehouse {w}"},
                    [(f"A-{b:03d}", "AB"[b % 2], 10 * (b + 1)) for b in range(s.bins)],
                )
                for w in range(s.warehouses)
            ],
        )

    # ------------------------------------------------------------------------------------------- rows

    def rows(self, kind: str) -> Iterator[dict[str, Any]]:
        """The rows of one file, in order."""
        return getattr(self, f"_{kind}")()  # type: ignore[no-any-return]

    def _categories(self) -> Iterator[dict[str, Any]]:
        for major, middle, minor in self._merch_paths():
            code = _merch_code(major, middle, minor)
            parent = _merch_code(major, middle, None) if minor is not None else None
            if minor is None and middle is not None:
                parent = _merch_code(major, None, None)
            label = code.removeprefix("sc-")
            yield {
                "code": code,
                "tree": TREE,
                "parent": parent,
                "labels": {"zh-CN": f"类目 {label}", "en": f"Category {label}"},
            }
        for shelf in range(self.shape.shelves):
            labels = {"zh-CN": f"货架 {shelf}", "en": f"Shelf {shelf}"}
            yield {"code": f"sw-{shelf}", "tree": WEB_TREE, "labels": labels}
            for section in range(self.shape.sections):
                code = _web_code(shelf, section)
                yield {
                    "code": code,
                    "tree": WEB_TREE,
                    "parent": f"sw-{shelf}",
                    "labels": {"zh-CN": f"专区 {shelf}-{section}", "en": f"Section {shelf}-{section}"},
                }

    def _attributes(self) -> Iterator[dict[str, Any]]:
        for i, a in enumerate(self.attributes):
            row: dict[str, Any] = {
                "code": a.code,
                "type": a.type,
                "labels": {"zh-CN": f"属性 {i}", "en": f"Attribute {i}"},
                "visibility": "confidential" if i % 10 == 9 else "internal" if i % 3 == 2 else "public",
                "display_priority": i % 100,
                "filterable": i % 4 == 0,
                "validation": a.validation,
            }
            if a.type in ("select", "multiselect"):
                row["options"] = [
                    {"code": f"o{k}", "labels": {"zh-CN": f"选项 {k}", "en": f"Option {k}"}} for k in range(OPTIONS)
                ]
            yield row

    def _attribute_sets(self) -> Iterator[dict[str, Any]]:
        s = self.shape
        for major, middle, minor in self._merch_paths():
            if middle is None:
                bound = self._bound(1, major)
            elif minor is None:
                bound = self._bound(2, major * s.middles + middle)
            else:
                bound = self._bound(3, (major * s.middles + middle) * s.minors + minor)
            yield {
                "category": _merch_code(major, middle, minor),
                "attributes": [{"attribute": a.code, "required_for": list(a.required_for)} for a in bound],
            }

    def _products(self) -> Iterator[dict[str, Any]]:
        rng = self._rng("products")
        for i in range(1, self.shape.products + 1):
            complete = i % COMPLETE_EVERY == 0
            leaf, bound = self.leaves[i % len(self.leaves)]
            values = {
                a.code: _value(a, i, rng) for a in bound if complete or (i + len(a.code) + ord(a.code[-1])) % 6 != 0
            }
            row: dict[str, Any] = {
                "code": product_code(i),
                "category": leaf,
                "categories": [self.sections[i % len(self.sections)]] if i % 2 == 0 else [],
                "role": ROLES[i % len(ROLES)],
                "series": [f"ss-{i % self.shape.series:03d}"] if i % 3 == 0 else [],
                "labels": {"zh-CN": f"商品 {i}", "en": f"Product {i}"},
                "description": {"en": f"Description of product {i}."} if complete or i % 5 else {},
                "selling_points": [{"zh-CN": f"卖点 {i}", "en": f"Point {i}"}] if complete or i % 3 else [],
                "images": [f"https://images.example.com/p/{i}.jpg"] if complete or i % 10 else [],
                "quality_tags": ["new"] if i % 7 == 0 else ["famous", "quality"] if i % 11 == 0 else [],
                "attributes": values,
            }
            yield row

    def _skus(self) -> Iterator[dict[str, Any]]:
        for i in range(1, self.shape.products + 1):
            row: dict[str, Any] = {"sku": sku_code(i), "product": product_code(i)}
            if i % 20 != 19:  # every twentieth without a barcode: the warehouse stage has something missing
                body = f"2{i:011d}"
                row["barcode"] = body + str(check_digit(body))
            yield row

    def _prices(self) -> Iterator[dict[str, Any]]:
        rng = self._rng("prices")
        for i in range(1, self.shape.products + 1):
            complete = i % COMPLETE_EVERY == 0
            cents = rng.randrange(1_000, 100_000)
            kinds = [("sale", cents)]
            if complete or i % 5:
                kinds.append(("cost", cents * rng.randrange(40, 61) // 100))
            if complete or i % 2:
                kinds.append(("distribution", cents * rng.randrange(70, 86) // 100))
            for kind, amount in kinds:
                row = {"sku": sku_code(i), "kind": kind, "amount": f"{amount // 100}.{amount % 100:02d}"}
                row["currency"] = CURRENCY
                if self.epoch is not None:
                    row["valid_from"] = self.epoch
                yield row

    def _supplier_terms(self) -> Iterator[dict[str, Any]]:
        rng = self._rng("supplier_terms")
        for i in range(1, self.shape.products + 1):
            if not (i % COMPLETE_EVERY == 0 or i % 4 == 1):
                continue
            cents = rng.randrange(500, 50_000)
            yield {
                "product": product_code(i),
                "supplier": f"su-{rng.randrange(self.shape.suppliers):03d}",
                "purchase_price": {"amount": f"{cents // 100}.{cents % 100:02d}", "currency": CURRENCY},
                "moq": rng.choice((1, 10, 20, 50, 100)),
                "lead_time_days": rng.randrange(1, 60),
                "preferred": True,
            }

    def _stock(self) -> Iterator[dict[str, Any]]:
        rng = self._rng("stock")
        s = self.shape
        for i in range(1, s.products + 1):
            if i % 20 == 19 or i % 10 == 3 or i % COMPLETE_EVERY == 0:
                continue  # no barcode, not counted yet, or received when it is listed (`listed`)
            yield {
                "sku": sku_code(i),
                "warehouse": f"sw-{i % s.warehouses}",
                "location": f"A-{rng.randrange(s.bins):03d}",
                "qty": rng.randrange(1, 500),
            }

    # ------------------------------------------------------------------------------------------ shape

    def listed(self) -> list[Listed]:
        """The products the seed lists (each has everything the gates ask for), with the receipt of their stock
        (`stocked` asks for stock received: a count is not a receipt)."""
        return [
            Listed(product=product_code(i), sku=sku_code(i), warehouse=f"sw-{i % self.shape.warehouses}", qty=20)
            for i in range(COMPLETE_EVERY, self.shape.products + 1, COMPLETE_EVERY)
        ]

    def _rng(self, kind: str) -> random.Random:
        return random.Random(f"{self.seed}:{kind}")

    def _attribute(self, i: int) -> Attribute:
        kind = TYPES[i % len(TYPES)]
        validation: dict[str, Any] = dict(RULES.get(kind, {}))
        return Attribute(
            code=f"sa-{i:04d}", type=kind, validation=validation, required_for=STAGE_SETS[i % len(STAGE_SETS)]
        )

    def _bound(self, level: int, index: int) -> list[Attribute]:
        """The attributes a category binds: the level's pool, `index` its category's number at that level."""
        pool = self._pools[level - 1]
        count = 6 if level == 1 else 2
        return [self.attributes[pool[(index * count + k) % len(pool)]] for k in range(count)]

    def _merch_paths(self) -> Iterator[tuple[int, int | None, int | None]]:
        """Every merchandise category as (major, middle, minor) numbers, parents first."""
        s = self.shape
        for major in range(s.majors):
            yield major, None, None
            for middle in range(s.middles):
                yield major, middle, None
                for minor in range(s.minors):
                    yield major, middle, minor


def _merch_code(major: int, middle: int | None, minor: int | None) -> str:
    code = f"sc-{major + 1}"
    if middle is not None:
        code += f"-{middle + 1}"
    if minor is not None:
        code += f"-{minor + 1}"
    return code


def _web_code(shelf: int, section: int) -> str:
    return f"sw-{shelf}-{section}"


def product_code(i: int) -> str:
    return f"sp-{i:07d}"


def sku_code(i: int) -> str:
    return f"SK-{i:07d}"


def _value(a: Attribute, i: int, rng: random.Random) -> Any:
    """A value of attribute `a` for product `i` that its rules accept."""
    kind = a.type
    if kind == "text":
        return f"value {i}"
    if kind == "textarea":
        return f"A longer text for product {i}."
    if kind == "url":
        return f"https://example.com/p/{i}"
    if kind == "integer":
        return rng.randrange(0, 1001)
    if kind == "decimal":
        return f"{rng.randrange(0, 10_000) / 10:.1f}"
    if kind == "select":
        return f"o{rng.randrange(OPTIONS)}"
    if kind == "multiselect":
        return [f"o{k}" for k in sorted(rng.sample(range(OPTIONS), 2))]
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "measurement":
        return {"value": str(rng.randrange(1, 301)), "unit": "cm"}
    return f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
