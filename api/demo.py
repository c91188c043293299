"""The demo catalog of DOMAIN.md, loaded through the API itself (so it obeys every rule a client does),
on one connection inside one transaction: it loads whole or not at all.

Two trees (`merch`, `web`): 服饰配件 › 丝巾 › 真丝方巾 / 真丝长巾 and 家居香氛 › 薰衣草 › 精油 / 香包, the
丝巾系列 and 薰衣草系列 series, typed attributes bound at every level, and products in every role with
their SKUs — labels in zh-CN and en.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from api.db import OneConnectionPool
from api.settings import Settings
from domain.keys.service import hash_secret

L = dict[str, str]


def labels(zh: str, en: str) -> L:
    return {"zh-CN": zh, "en": en}


def ean13(body12: str) -> str:
    """Complete a 12-digit body with its GTIN check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


TREES = [
    {
        "code": "merch",
        "labels": labels("商品结构", "Merchandise structure"),
        "level_names": ["major", "middle", "minor"],
    },
    {"code": "web", "labels": labels("网店货架", "Web shelves"), "level_names": ["shelf", "section"]},
]

CATEGORIES: list[dict[str, Any]] = [
    {"code": "accessories", "tree": "merch", "parent": None, "labels": labels("服饰配件", "Apparel accessories")},
    {"code": "scarves", "tree": "merch", "parent": "accessories", "labels": labels("丝巾", "Scarves")},
    {
        "code": "silk-square-scarves",
        "tree": "merch",
        "parent": "scarves",
        "labels": labels("真丝方巾", "Silk square scarves"),
    },
    {
        "code": "silk-long-scarves",
        "tree": "merch",
        "parent": "scarves",
        "labels": labels("真丝长巾", "Silk long scarves"),
    },
    {"code": "home-fragrance", "tree": "merch", "parent": None, "labels": labels("家居香氛", "Home fragrance")},
    {"code": "lavender", "tree": "merch", "parent": "home-fragrance", "labels": labels("薰衣草", "Lavender")},
    {"code": "essential-oils", "tree": "merch", "parent": "lavender", "labels": labels("精油", "Essential oils")},
    {"code": "sachets", "tree": "merch", "parent": "lavender", "labels": labels("香包", "Sachets")},
    {"code": "web-gifts", "tree": "web", "parent": None, "labels": labels("礼物精选", "Gift ideas")},
    {"code": "web-gifts-for-her", "tree": "web", "parent": "web-gifts", "labels": labels("送她", "For her")},
    {"code": "web-new", "tree": "web", "parent": None, "labels": labels("新品上架", "New arrivals")},
    {"code": "web-home", "tree": "web", "parent": None, "labels": labels("居家好物", "For the home")},
]

SERIES = [
    {
        "code": "silk-scarf-series",
        "labels": labels("丝巾系列", "Silk scarf series"),
        "description": labels("桑蚕丝方巾与长巾", "Mulberry silk squares and long scarves"),
    },
    {
        "code": "lavender-series",
        "labels": labels("薰衣草系列", "Lavender series"),
        "description": labels("普罗旺斯薰衣草香氛", "Provence lavender fragrance"),
    },
]

GROUPS = [
    {"code": "basics", "labels": labels("基本信息", "Basics")},
    {"code": "material", "labels": labels("材质", "Material")},
    {"code": "logistics", "labels": labels("物流", "Logistics")},
    {"code": "care", "labels": labels("养护", "Care")},
]


def _attr(
    code: str,
    type_: str,
    group: str,
    zh: str,
    en: str,
    visibility: str = "public",
    priority: int = 0,
    filterable: bool = False,
    validation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "type": type_,
        "group": group,
        "labels": labels(zh, en),
        "visibility": visibility,
        "display_priority": priority,
        "filterable": filterable,
        "validation": validation or {},
    }


ATTRIBUTES = [
    _attr("color", "select", "basics", "颜色", "Colour", priority=100, filterable=True),
    _attr("material", "select", "material", "材质", "Material", priority=90, filterable=True),
    _attr("fragrance-notes", "multiselect", "basics", "香调", "Fragrance notes", priority=85, filterable=True),
    _attr(
        "volume",
        "measurement",
        "basics",
        "容量",
        "Volume",
        priority=80,
        validation={"unit_family": "volume", "default_unit": "ml", "min": "1", "max": "1000", "decimals": 1},
    ),
    _attr(
        "width",
        "measurement",
        "basics",
        "宽度",
        "Width",
        priority=70,
        validation={"unit_family": "length", "default_unit": "cm", "min": "10", "max": "300", "decimals": 1},
    ),
    _attr(
        "length",
        "measurement",
        "basics",
        "长度",
        "Length",
        priority=60,
        validation={"unit_family": "length", "default_unit": "cm", "min": "10", "max": "300", "decimals": 1},
    ),
    _attr("momme", "integer", "material", "姆米", "Momme", priority=50, validation={"min": "6", "max": "40"}),
    _attr("pattern", "text", "basics", "图案", "Pattern", priority=40, validation={"max_length": 100}),
    _attr("origin", "text", "basics", "产地", "Origin", priority=30, validation={"max_length": 100}),
    _attr("organic", "boolean", "basics", "有机认证", "Organic", priority=20),
    _attr("care-instructions", "textarea", "care", "洗护说明", "Care instructions", priority=10),
    _attr(
        "weight",
        "measurement",
        "logistics",
        "重量",
        "Weight",
        visibility="internal",
        validation={"unit_family": "mass", "default_unit": "g", "min": "1", "max": "20000", "decimals": 1},
    ),
    _attr("storage", "select", "logistics", "储存条件", "Storage", visibility="internal"),
    _attr(
        "hs-code",
        "text",
        "logistics",
        "海关编码",
        "HS code",
        visibility="internal",
        validation={"regex": "^[0-9]{6,10}$"},
    ),
    _attr("launch-date", "date", "basics", "上市日期", "Launch date", visibility="internal"),
    _attr("supplier-notes", "textarea", "basics", "供应商备注", "Supplier notes", visibility="confidential"),
]

OPTIONS = {
    "color": [
        ("red", "中国红", "Chinese red"),
        ("navy", "藏青", "Navy"),
        ("ivory", "象牙白", "Ivory"),
        ("purple", "薰衣草紫", "Lavender purple"),
    ],
    "material": [
        ("mulberry-silk", "桑蚕丝", "Mulberry silk"),
        ("silk-blend", "真丝混纺", "Silk blend"),
        ("cotton", "棉", "Cotton"),
        ("linen", "亚麻", "Linen"),
    ],
    "fragrance-notes": [
        ("lavender", "薰衣草", "Lavender"),
        ("bergamot", "佛手柑", "Bergamot"),
        ("cedar", "雪松", "Cedar"),
    ],
    "storage": [("ambient", "常温", "Ambient"), ("cool-dry", "阴凉干燥", "Cool and dry")],
}

BINDINGS: dict[str, list[dict[str, Any]]] = {
    "accessories": [
        {"attribute": "weight", "required_for": ["warehousing"]},
        {"attribute": "hs-code", "required_for": ["purchasing"]},
        {"attribute": "origin", "required_for": []},
        {"attribute": "care-instructions", "required_for": ["service"]},
        {"attribute": "launch-date", "required_for": []},
        {"attribute": "supplier-notes", "required_for": []},
    ],
    "scarves": [
        {"attribute": "material", "required_for": ["listing", "purchasing"]},
        {"attribute": "color", "required_for": ["listing"]},
        {"attribute": "pattern", "required_for": []},
        {"attribute": "momme", "required_for": ["purchasing"]},
    ],
    "silk-square-scarves": [{"attribute": "width", "required_for": ["listing"]}],
    "silk-long-scarves": [
        {"attribute": "width", "required_for": ["listing"]},
        {"attribute": "length", "required_for": ["listing"]},
    ],
    "home-fragrance": [
        {"attribute": "weight", "required_for": ["warehousing"]},
        {"attribute": "storage", "required_for": ["warehousing"]},
        {"attribute": "origin", "required_for": ["listing"]},
        {"attribute": "organic", "required_for": []},
        {"attribute": "launch-date", "required_for": []},
        {"attribute": "supplier-notes", "required_for": []},
    ],
    "lavender": [{"attribute": "fragrance-notes", "required_for": ["listing"]}],
    "essential-oils": [{"attribute": "volume", "required_for": ["listing", "warehousing"]}],
}

WAREHOUSING_NEEDS = {
    "reads": ["skus", "barcode", "stock", "stock_by_location", "locations", "weight", "storage", "volume"],
    "requires": ["barcode", "weight"],
}

IMG = "https://images.example.com/merchflow/demo"


def _product(
    code: str,
    category: str,
    role: str,
    zh: str,
    en: str,
    *,
    series: list[str],
    web: str,
    tags: list[str],
    attributes: dict[str, Any],
    points: list[tuple[str, str]],
    desc: tuple[str, str],
) -> dict[str, Any]:
    return {
        "code": code,
        "category": category,
        "categories": [web],
        "role": role,
        "series": series,
        "labels": labels(zh, en),
        "description": labels(*desc),
        "selling_points": [labels(z, e) for z, e in points],
        "images": [f"{IMG}/{code}-1.jpg", f"{IMG}/{code}-2.jpg"],
        "quality_tags": tags,
        "attributes": attributes,
    }


def _cm(v: str) -> dict[str, str]:
    return {"value": v, "unit": "cm"}


def _g(v: str) -> dict[str, str]:
    return {"value": v, "unit": "g"}


SCARF = ["silk-scarf-series"]
LAV = ["lavender-series"]
PRODUCTS = [
    _product(
        "silk-square-peony",
        "silk-square-scarves",
        "destination",
        "真丝方巾·牡丹",
        "Silk square scarf · Peony",
        series=SCARF,
        web="web-gifts-for-her",
        tags=["famous", "quality"],
        attributes={
            "material": "mulberry-silk",
            "color": "red",
            "width": _cm("90"),
            "momme": 16,
            "pattern": "牡丹 Peony",
            "weight": _g("48"),
            "hs-code": "6214100000",
            "origin": "杭州 Hangzhou",
            "care-instructions": "冷水手洗，阴干。Hand wash cold, dry in shade.",
            "launch-date": "2026-03-01",
            "supplier-notes": "Exclusive print; reorder 6 weeks ahead.",
        },
        points=[("16姆米桑蚕丝，垂感好", "16-momme mulberry silk that drapes"), ("手工卷边", "Hand-rolled hems")],
        desc=("杭州桑蚕丝方巾，牡丹印花。", "A Hangzhou mulberry silk square with a peony print."),
    ),
    _product(
        "silk-square-classic",
        "silk-square-scarves",
        "routine",
        "真丝方巾·经典格纹",
        "Silk square scarf · Classic check",
        series=SCARF,
        web="web-gifts",
        tags=["quality"],
        attributes={
            "material": "silk-blend",
            "color": "navy",
            "width": _cm("70"),
            "momme": 12,
            "weight": _g("35"),
            "hs-code": "6214100000",
            "origin": "苏州 Suzhou",
        },
        points=[("百搭格纹", "A check that goes with everything")],
        desc=("日常百搭的真丝混纺方巾。", "An everyday silk-blend square."),
    ),
    _product(
        "silk-long-heritage",
        "silk-long-scarves",
        "image",
        "真丝长巾·苏绣",
        "Silk long scarf · Suzhou embroidery",
        series=SCARF,
        web="web-gifts-for-her",
        tags=["famous", "specialty"],
        attributes={
            "material": "mulberry-silk",
            "color": "ivory",
            "width": _cm("55"),
            "length": _cm("180"),
            "momme": 22,
            "weight": _g("95"),
            "hs-code": "6214100000",
            "origin": "苏州 Suzhou",
            "care-instructions": "专业干洗。Dry clean only.",
        },
        points=[
            ("非遗苏绣手工刺绣", "Hand-embroidered Suzhou needlework, a listed heritage craft"),
            ("22姆米重磅真丝", "Heavy 22-momme silk"),
        ],
        desc=("品牌形象款，苏绣长巾。", "The flagship: a Suzhou-embroidered long scarf."),
    ),
    _product(
        "silk-long-festival",
        "silk-long-scarves",
        "promotion",
        "真丝长巾·节日限定",
        "Silk long scarf · Festival edition",
        series=SCARF,
        web="web-new",
        tags=["new"],
        attributes={
            "material": "silk-blend",
            "color": "red",
            "width": _cm("50"),
            "length": _cm("160"),
            "weight": _g("70"),
            "launch-date": "2026-12-01",
        },
        points=[("节日限定配色", "Festival-only colourway")],
        desc=("为节日活动定制的长巾。", "A long scarf made for the festival campaign."),
    ),
    _product(
        "lavender-oil-10ml",
        "essential-oils",
        "destination",
        "薰衣草精油 10ml",
        "Lavender essential oil 10 ml",
        series=LAV,
        web="web-home",
        tags=["famous", "quality"],
        attributes={
            "volume": {"value": "10", "unit": "ml"},
            "fragrance-notes": ["lavender"],
            "weight": _g("42"),
            "storage": "cool-dry",
            "origin": "普罗旺斯 Provence",
            "organic": True,
        },
        points=[("法国普罗旺斯真正薰衣草", "True lavender from Provence"), ("有机认证", "Certified organic")],
        desc=("单一产地真正薰衣草精油。", "Single-origin true lavender oil."),
    ),
    _product(
        "lavender-oil-30ml",
        "essential-oils",
        "image",
        "薰衣草精油 30ml 礼装",
        "Lavender essential oil 30 ml, gift bottle",
        series=LAV,
        web="web-gifts",
        tags=["specialty"],
        attributes={
            "volume": {"value": "30", "unit": "ml"},
            "fragrance-notes": ["lavender", "bergamot"],
            "weight": _g("120"),
            "storage": "cool-dry",
            "origin": "普罗旺斯 Provence",
            "organic": True,
        },
        points=[("手吹玻璃瓶", "Hand-blown glass bottle")],
        desc=("高端礼装精油。", "The premium gift bottle."),
    ),
    _product(
        "lavender-sachet-3pack",
        "sachets",
        "routine",
        "薰衣草香包三只装",
        "Lavender sachets, pack of three",
        series=LAV,
        web="web-home",
        tags=["quality"],
        attributes={
            "fragrance-notes": ["lavender"],
            "weight": _g("60"),
            "storage": "ambient",
            "origin": "新疆伊犁 Yili, Xinjiang",
        },
        points=[("衣柜防潮留香", "Keeps wardrobes fresh")],
        desc=("伊犁薰衣草干花香包。", "Dried Yili lavender in cotton sachets."),
    ),
    _product(
        "lavender-sachet-gift",
        "sachets",
        "promotion",
        "薰衣草香包礼盒",
        "Lavender sachet gift box",
        series=LAV,
        web="web-new",
        tags=["new"],
        attributes={"fragrance-notes": ["lavender", "cedar"], "weight": _g("180"), "storage": "ambient"},
        points=[("活动限定礼盒", "Campaign gift box")],
        desc=("活动专供礼盒。", "A gift box made for campaigns."),
    ),
]

SKUS: list[tuple[str, str, dict[str, Any]]] = [
    ("silk-square-peony", "SSP-RED", {"color": "red"}),
    ("silk-square-peony", "SSP-NAVY", {"color": "navy"}),
    ("silk-square-classic", "SSC-NAVY", {"color": "navy"}),
    ("silk-long-heritage", "SLH-IVORY", {"color": "ivory"}),
    ("silk-long-festival", "SLF-RED", {"color": "red"}),
    ("lavender-oil-10ml", "LO-10", {}),
    ("lavender-oil-30ml", "LO-30", {}),
    ("lavender-sachet-3pack", "LS-3", {}),
    ("lavender-sachet-gift", "LS-GIFT", {}),
]


WAREHOUSES = [
    {"code": "hz", "labels": labels("杭州仓", "Hangzhou warehouse")},
    {"code": "sh", "labels": labels("上海仓", "Shanghai warehouse")},
]
# (warehouse, bin, zone, pick sequence)
LOCATIONS = [
    ("hz", "A-01-01-01", "A", 10),
    ("hz", "A-01-02-01", "A", 20),
    ("hz", "B-01-01-01", "B", 30),
    ("hz", "B-01-02-01", "B", 40),
    ("sh", "A-01-01-01", "A", 10),
    ("sh", "A-02-01-01", "A", 20),
]
# Receipts (sku, warehouse, bin, qty, unit cost in CNY), then a few moves of a normal day.
RECEIPTS = [
    ("SSP-RED", "hz", "A-01-01-01", 120, "38.50"),
    ("SSP-NAVY", "hz", "A-01-02-01", 80, "38.50"),
    ("SSC-NAVY", "hz", "A-01-02-01", 150, "22.00"),
    ("SLH-IVORY", "hz", "B-01-01-01", 30, "260.00"),
    ("SLF-RED", "sh", "A-01-01-01", 200, "45.00"),
    ("LO-10", "sh", "A-02-01-01", 300, "18.00"),
    ("LO-30", "sh", "A-02-01-01", 60, "52.00"),
    ("LS-3", "hz", "B-01-02-01", 400, "9.80"),
]
DAY_MOVES = [
    {
        "type": "reserve",
        "sku": "SSP-RED",
        "qty": 6,
        "warehouse": "hz",
        "location": "A-01-01-01",
        "reference": "SO-1001",
    },
    {"type": "pick", "sku": "SSP-RED", "qty": 6, "warehouse": "hz", "location": "A-01-01-01", "reference": "SO-1001"},
    {
        "type": "transfer",
        "sku": "LS-3",
        "qty": 50,
        "warehouse": "hz",
        "location": "B-01-02-01",
        "to_warehouse": "sh",
        "to_location": "A-02-01-01",
        "reference": "TR-0007",
    },
    {
        "type": "count",
        "sku": "SSC-NAVY",
        "qty": 148,
        "warehouse": "hz",
        "location": "A-01-02-01",
        "reason": "cycle count",
    },
]


SUPPLIERS = [
    {
        "code": "hz-silk-mill",
        "type": "manufacturer",
        "labels": labels("杭州丝绸厂", "Hangzhou Silk Mill"),
        "contacts": [{"name": "王芳", "phone": "+86 571 8800 1234", "role": "sales"}],
    },
    {
        "code": "suzhou-embroidery-agency",
        "type": "agent",
        "labels": labels("苏绣代理", "Suzhou Embroidery Agency"),
        "contacts": [{"name": "李娜", "email": "li.na@example.com"}],
    },
    {
        "code": "provence-oils",
        "type": "manufacturer",
        "labels": labels("普罗旺斯精油", "Provence Oils"),
        "contacts": [{"name": "Claire Martin", "email": "claire@example.com"}],
    },
    {
        "code": "yili-lavender-wholesale",
        "type": "wholesaler",
        "labels": labels("伊犁薰衣草批发", "Yili Lavender Wholesale"),
        "contacts": [],
    },
    {
        "code": "shanghai-trading",
        "type": "trading_company",
        "labels": labels("上海商贸", "Shanghai Trading Co."),
        "contacts": [],
    },
]
# (product, supplier, purchase price CNY, moq, lead time days, preferred)
TERMS = [
    ("silk-square-peony", "hz-silk-mill", "36.00", 50, 21, True),
    ("silk-square-peony", "shanghai-trading", "41.00", 10, 5, False),
    ("silk-square-classic", "hz-silk-mill", "21.00", 100, 21, True),
    ("silk-long-heritage", "suzhou-embroidery-agency", "250.00", 5, 45, True),
    ("silk-long-festival", "hz-silk-mill", "43.00", 100, 30, True),
    ("lavender-oil-10ml", "provence-oils", "17.00", 200, 40, True),
    ("lavender-oil-10ml", "shanghai-trading", "19.50", 20, 7, False),
    ("lavender-oil-30ml", "provence-oils", "50.00", 50, 40, True),
    ("lavender-sachet-3pack", "yili-lavender-wholesale", "9.50", 300, 14, True),
    ("lavender-sachet-gift", "yili-lavender-wholesale", "24.00", 100, 14, True),
]
# Per SKU: cost, distribution and sale price (CNY) in force now; the sale price was raised 30 days ago.
PRICES = {
    "SSP-RED": ("38.50", "69.00", "129.00", "119.00"),
    "SSP-NAVY": ("38.50", "69.00", "129.00", "119.00"),
    "SSC-NAVY": ("22.00", "45.00", "79.00", "79.00"),
    "SLH-IVORY": ("260.00", "520.00", "899.00", "859.00"),
    "SLF-RED": ("45.00", "80.00", "139.00", "139.00"),
    "LO-10": ("18.00", "39.00", "69.00", "65.00"),
    "LO-30": ("52.00", "99.00", "179.00", "179.00"),
    "LS-3": ("9.80", "22.00", "39.00", "36.00"),
    "LS-GIFT": ("26.00", "55.00", "99.00", "99.00"),
}
PROMOTED = {"SLF-RED": "109.00", "LS-GIFT": "79.00", "SSP-RED": "109.00"}


def _sales(today: date) -> list[dict[str, Any]]:
    """90 days of daily sales per SKU on the web and distribution channels, deterministic."""
    facts = []
    for n, (sku, (_, dist, sale, _old)) in enumerate(PRICES.items()):
        for back in range(90, 0, -1):
            day = today - timedelta(days=back)
            web = (n * 7 + back * 3) % 11 + (4 if sku in PROMOTED and back <= 10 else 0)
            wholesale = ((n + back) % 5) * 2
            for channel, qty, price in (("web", web, sale), ("distribution", wholesale, dist)):
                if qty:
                    revenue = format(Decimal(price) * qty, "f")
                    facts.append(
                        {
                            "day": day.isoformat(),
                            "sku": sku,
                            "channel": channel,
                            "qty": qty,
                            "revenue": {"amount": revenue, "currency": "CNY"},
                        }
                    )
    return facts


async def is_empty(conn: asyncpg.Connection) -> bool:
    """True when the database holds no catalog yet (no trees, no products)."""
    return bool(
        await conn.fetchval("SELECT NOT EXISTS (SELECT 1 FROM category_trees) AND NOT EXISTS (SELECT 1 FROM products)")
    )


async def _call(client: httpx.AsyncClient, method: str, path: str, body: Any) -> None:
    r = await client.request(method, path, json=body)
    if r.status_code >= 300:
        raise RuntimeError(f"demo seed: {method} {path} answered {r.status_code}: {r.text}")


async def seed(conn: asyncpg.Connection) -> str:
    """Load the demo catalog through the API, atomically; answers a one-line summary."""
    from api.app import create_app

    secret = "mf_seed_" + secrets.token_urlsafe(24)
    key_name = f"seed-demo-{secrets.token_hex(4)}"  # the audit trail names this key as the author
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO api_keys (name, prefix, secret_hash, roles) VALUES ($1, $2, $3, '{admin}')",
            key_name,
            secret[:7],
            hash_secret(secret),
        )
        app = create_app(Settings(), pool=OneConnectionPool(conn))
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://seed", headers=headers) as client:
            for tree in TREES:
                await _call(client, "POST", "/v1/category-trees", tree)
            for category in CATEGORIES:
                await _call(client, "POST", "/v1/categories", category)
            for series in SERIES:
                await _call(client, "POST", "/v1/series", series)
            for group in GROUPS:
                await _call(client, "POST", "/v1/attribute-groups", group)
            for attribute in ATTRIBUTES:
                await _call(client, "POST", "/v1/attributes", attribute)
            for code, options in OPTIONS.items():
                options_body = {
                    "options": [
                        {"code": c, "labels": labels(z, e), "position": i} for i, (c, z, e) in enumerate(options)
                    ]
                }
                await _call(client, "PUT", f"/v1/attributes/{code}/options", options_body)
            # Warehousing reads the logistics attributes too, and cannot work without the weight.
            await _call(client, "PUT", "/v1/stages/warehousing/needs", WAREHOUSING_NEEDS)
            for category_code, entries in BINDINGS.items():
                await _call(client, "PUT", f"/v1/categories/{category_code}/attributes", {"attributes": entries})
            for product in PRODUCTS:
                await _call(client, "POST", "/v1/products", product)
            for n, (product_code, sku, axes) in enumerate(SKUS, start=1):
                sku_body = {"sku": sku, "barcode": ean13(f"690123456{n:03d}"), "axes": axes}
                await _call(client, "POST", f"/v1/products/{product_code}/skus", sku_body)
            for warehouse in WAREHOUSES:
                await _call(client, "POST", "/v1/warehouses", warehouse)
            for wh, code, zone, seq in LOCATIONS:
                await _call(
                    client, "POST", f"/v1/warehouses/{wh}/locations", {"code": code, "zone": zone, "pick_sequence": seq}
                )
            receipts = [
                {
                    "type": "receive",
                    "sku": sku,
                    "qty": qty,
                    "warehouse": wh,
                    "location": loc,
                    "unit_cost": {"amount": cost, "currency": "CNY"},
                    "reference": f"PO-2026-{n:03d}",
                }
                for n, (sku, wh, loc, qty, cost) in enumerate(RECEIPTS, start=101)
            ]
            await _call(client, "POST", "/v1/stock/movements", {"movements": receipts})
            await _call(client, "POST", "/v1/stock/movements", {"movements": DAY_MOVES})
            for supplier in SUPPLIERS:
                await _call(client, "POST", "/v1/suppliers", supplier)
            for product_code, supplier_code, price, moq, lead, preferred in TERMS:
                await _call(
                    client,
                    "POST",
                    f"/v1/products/{product_code}/suppliers",
                    {
                        "supplier": supplier_code,
                        "purchase_price": {"amount": price, "currency": "CNY"},
                        "moq": moq,
                        "lead_time_days": lead,
                        "preferred": preferred,
                    },
                )
            now = datetime.now(UTC).replace(microsecond=0)
            opened, raised = now - timedelta(days=120), now - timedelta(days=30)
            for sku, (cost, dist, sale, old_sale) in PRICES.items():
                for kind, amount, since in (
                    ("cost", cost, opened),
                    ("distribution", dist, opened),
                    ("sale", old_sale, opened),
                    ("sale", sale, raised),
                ):
                    if kind == "sale" and since == raised and sale == old_sale:
                        continue
                    await _call(
                        client,
                        "POST",
                        f"/v1/skus/{sku}/prices",
                        {"kind": kind, "amount": amount, "currency": "CNY", "valid_from": since.isoformat()},
                    )
            await _call(
                client,
                "POST",
                "/v1/promotions",
                {
                    "code": "double-twelve",
                    "labels": labels("双十二", "Double Twelve"),
                    "starts_at": (now - timedelta(days=3)).isoformat(),
                    "ends_at": (now + timedelta(days=14)).isoformat(),
                    "items": [
                        {"sku": sku, "price": {"amount": price, "currency": "CNY"}} for sku, price in PROMOTED.items()
                    ],
                },
            )
            await _call(client, "POST", "/v1/sales", {"facts": _sales(now.date())})
        await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE name = $1", key_name)
    return (
        f"{len(TREES)} trees, {len(CATEGORIES)} categories, {len(SERIES)} series, {len(ATTRIBUTES)} attributes, "
        f"{len(PRODUCTS)} products, {len(SKUS)} SKUs, {len(WAREHOUSES)} warehouses with {len(LOCATIONS)} bins, "
        f"{len(SUPPLIERS)} suppliers, prices, 1 promotion, 90 days of sales"
    )
