"""Load a realistic synthetic fair into PostgreSQL, fast: ``seed_scale --exhibitors 26000
--products 1800000`` (Canton scale) or small (``--exhibitors 200 --products 20000``).

Exhibitors (approved, with published booths) and their products (published, spread over the
50 exhibition sections, names built from word lists per category) are generated in Python
and streamed with COPY. Products go through an unlogged staging table so the search vector
is computed once, set-based (``INSERT ... SELECT exhibitors_product_vector(...)``), with
the search trigger disabled and the search indexes dropped during the load and rebuilt
after it; the word list is then recounted. Rows it creates are recognised by the slug
prefix ``scale-``: run again with the same sizes it does nothing; ``--reset`` replaces an
earlier load (TRUNCATE when the database holds only seeded exhibitors, DELETE otherwise).
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction

from exhibitors.models import Booth, Exhibitor, Product
from exhibitors.search import search_words_refresh
from fair.models import Category

SLUG_PREFIX = "scale-"
CHUNK = 50_000

# Search indexes of migration 0002, dropped during a load and rebuilt after it.
SEARCH_INDEXES = {
    "exhibitors_product_search_gin": "USING gin (search_vector)",
    "exhibitors_product_name_trgm": "USING gin (upper(name::text) gin_trgm_ops)",
    "exhibitors_product_pub_created": "(created_at DESC, id DESC) WHERE is_published",
    "exhibitors_product_pub_price": "(price_min, id) WHERE is_published",
    "exhibitors_product_pub_price_desc": (
        "(price_min DESC NULLS LAST, id DESC) WHERE is_published"
    ),
    "exhibitors_product_pub_category_created": (
        "(category_id, created_at DESC) WHERE is_published"
    ),
}

# Per top-level category: product nouns, modifiers and specification words.
CATALOGUE: dict[str, dict[str, list[str]]] = {
    "electronics-appliances": {
        "nouns": [
            "refrigerator", "washing machine", "microwave oven", "air conditioner", "smart tv",
            "led tv", "air fryer", "rice cooker", "vacuum cleaner", "electric kettle",
            "blender", "coffee maker", "dishwasher", "water dispenser", "bluetooth speaker",
            "wireless earbuds", "headphones", "tablet", "laptop", "smartphone", "power bank",
            "smart watch", "security camera", "projector", "hair dryer", "electric fan",
            "dehumidifier", "air purifier", "induction cooker", "toaster",
        ],
        "adjs": ["smart", "portable", "digital", "wireless", "compact", "household", "mini",
                 "inverter", "energy saving", "commercial", "stainless steel", "double door"],
        "specs": ["55 inch", "65 inch", "32 inch", "4k", "220v", "110v", "1200w", "2000w",
                  "wifi", "bluetooth", "10l", "300l", "1.5l", "black", "white", "silver"],
    },
    "lighting-electrical": {
        "nouns": ["led panel light", "led bulb", "led strip", "street light", "flood light",
                  "ceiling light", "downlight", "solar garden light", "desk lamp", "led tube",
                  "high bay light", "wall lamp", "chandelier", "emergency light", "socket",
                  "wall switch", "circuit breaker", "extension cord", "cable", "led driver"],
        "adjs": ["led", "dimmable", "waterproof", "outdoor", "indoor", "rgb", "smart",
                 "explosion proof", "aluminum", "ip65", "energy saving", "decorative"],
        "specs": ["10w", "20w", "40w", "100w", "200w", "600x600", "3000k", "6500k", "e27",
                  "gu10", "12v", "24v", "220v", "5m"],
    },
    "hardware-tools": {
        "nouns": ["cordless drill", "angle grinder", "hammer", "screwdriver set", "wrench",
                  "pliers", "tool box", "door lock", "door handle", "hinge", "padlock",
                  "tape measure", "saw blade", "drill bit", "socket set", "workbench",
                  "ladder", "wheelbarrow", "bolt", "nut", "fastener"],
        "adjs": ["stainless steel", "heavy duty", "professional", "cordless", "electric",
                 "hydraulic", "chrome vanadium", "brass", "zinc alloy", "industrial"],
        "specs": ["18v", "20v", "m8", "m10", "125mm", "230mm", "5m", "12 piece", "40 piece"],
    },
    "machinery": {
        "nouns": ["cnc machine", "laser cutting machine", "injection molding machine",
                  "packaging machine", "filling machine", "excavator", "wheel loader",
                  "forklift", "diesel generator", "air compressor", "water pump", "tractor",
                  "harvester", "robot arm", "conveyor belt", "welding machine", "crusher",
                  "concrete mixer", "hydraulic press", "lathe"],
        "adjs": ["automatic", "industrial", "hydraulic", "diesel", "electric", "cnc",
                 "high precision", "heavy duty", "mini", "semi automatic"],
        "specs": ["5 ton", "3 ton", "20 ton", "10kw", "50kw", "380v", "1500w", "3 axis",
                  "5 axis"],
    },
    "vehicles-spare-parts": {
        "nouns": ["electric car", "electric scooter", "electric bicycle", "motorcycle",
                  "mountain bike", "car tire", "brake pad", "spark plug", "car battery",
                  "headlight", "oil filter", "shock absorber", "helmet", "bicycle saddle",
                  "alloy wheel", "wiper blade", "radiator", "clutch kit"],
        "adjs": ["electric", "folding", "off road", "universal", "alloy", "carbon fiber",
                 "performance", "replacement", "oem"],
        "specs": ["48v", "60v", "26 inch", "29 inch", "125cc", "150cc", "250cc", "12v",
                  "r17", "r18"],
    },
    "new-energy": {
        "nouns": ["solar panel", "solar inverter", "lithium battery", "energy storage system",
                  "wind turbine", "solar charge controller", "portable power station",
                  "ev charger", "battery pack", "solar water heater"],
        "adjs": ["monocrystalline", "polycrystalline", "off grid", "hybrid", "portable",
                 "lifepo4", "rechargeable", "home"],
        "specs": ["400w", "550w", "5kw", "10kw", "12v", "48v", "100ah", "200ah", "5kwh"],
    },
    "chemicals-materials": {
        "nouns": ["epoxy resin", "pvc resin", "titanium dioxide", "silicone sealant",
                  "adhesive", "paint", "coating", "pigment", "plastic granules",
                  "carbon fiber sheet", "glass fiber", "fertilizer", "detergent powder"],
        "adjs": ["industrial", "high purity", "waterproof", "eco friendly", "food grade",
                 "heat resistant", "transparent"],
        "specs": ["25kg", "1kg", "99%", "200l", "rutile", "anatase"],
    },
    "building-furniture": {
        "nouns": ["ceramic tile", "floor tile", "laminate flooring", "vinyl flooring",
                  "aluminum window", "steel door", "kitchen cabinet", "wardrobe", "sofa",
                  "dining table", "office chair", "bed", "mattress", "bathroom vanity",
                  "toilet", "shower head", "faucet", "bathtub", "wash basin", "mirror"],
        "adjs": ["modern", "stainless steel", "wooden", "marble", "ceramic", "luxury",
                 "waterproof", "porcelain", "glass", "leather", "ergonomic"],
        "specs": ["600x600", "800x800", "3 seater", "queen size", "king size", "1.8m", "matte",
                  "glossy"],
    },
    "consumer-goods": {
        "nouns": ["cooking pot", "frying pan", "pot", "knife set", "cutlery set",
                  "dinnerware set", "water bottle", "lunch box", "storage box", "mug",
                  "tea cup", "toothbrush", "hair brush", "pet bed", "dog collar", "cat litter",
                  "towel rack", "cutting board", "kettle", "thermos"],
        "adjs": ["stainless steel", "non stick", "ceramic", "bamboo", "silicone", "glass",
                 "reusable", "bpa free", "porcelain", "electric", "portable"],
        "specs": ["24cm", "28cm", "500ml", "1l", "set of 6", "16 piece", "3 piece", "blue",
                  "red"],
    },
    "gifts-decorations": {
        "nouns": ["photo frame", "candle holder", "artificial flower", "christmas tree",
                  "christmas ornament", "vase", "wall clock", "sunglasses", "garden planter",
                  "wind chime", "rattan basket", "iron wall art", "keychain", "gift box",
                  "glass vase", "figurine"],
        "adjs": ["handmade", "decorative", "vintage", "luxury", "wooden", "glass", "ceramic",
                 "metal", "custom", "promotional"],
        "specs": ["small", "large", "set of 3", "gold", "silver", "30cm", "60cm"],
    },
    "toys-baby": {
        "nouns": ["plush toy", "building blocks", "rc car", "doll", "puzzle", "baby stroller",
                  "baby bottle", "diaper", "car seat", "kids dress", "baby romper",
                  "educational toy", "ride on car", "teether"],
        "adjs": ["educational", "soft", "wooden", "plastic", "electric", "organic cotton",
                 "safe", "colorful", "foldable"],
        "specs": ["0-3 years", "3+ years", "100 pieces", "pink", "blue"],
    },
    "textiles-garments": {
        "nouns": ["t shirt", "hoodie", "jeans", "dress", "jacket", "down jacket", "sportswear",
                  "yoga pants", "underwear", "socks", "leather belt", "scarf", "cotton fabric",
                  "polyester fabric", "bed sheet", "carpet", "curtain", "blanket", "towel"],
        "adjs": ["cotton", "polyester", "wholesale", "custom logo", "men's", "women's",
                 "breathable", "quick dry", "knitted", "printed", "organic"],
        "specs": ["xl", "l", "m", "s", "180gsm", "220gsm", "black", "white", "navy"],
    },
    "shoes-bags": {
        "nouns": ["sneakers", "running shoes", "leather shoes", "sandals", "boots", "slippers",
                  "backpack", "handbag", "suitcase", "travel bag", "wallet", "laptop bag"],
        "adjs": ["leather", "casual", "sports", "waterproof", "canvas", "lightweight",
                 "fashion", "pu", "nylon"],
        "specs": ["size 42", "size 38", "20 inch", "24 inch", "black", "brown"],
    },
    "food": {
        "nouns": ["green tea", "black tea", "instant noodles", "canned fish", "frozen shrimp",
                  "dried fruit", "honey", "olive oil", "rice", "coffee beans", "snacks",
                  "soy sauce", "mineral water"],
        "adjs": ["organic", "natural", "halal", "premium", "frozen", "dried", "instant"],
        "specs": ["500g", "1kg", "25kg", "250ml", "1l", "carton"],
    },
    "medicines-health": {
        "nouns": ["face mask", "medical gloves", "blood pressure monitor", "thermometer",
                  "wheelchair", "vitamin c", "massage chair", "hospital bed", "syringe",
                  "first aid kit", "pulse oximeter", "surgical gown"],
        "adjs": ["disposable", "medical", "digital", "nitrile", "latex free", "sterile",
                 "portable", "electric"],
        "specs": ["box of 100", "size m", "size l", "50 pieces", "1000mg"],
    },
    "office-stationery": {
        "nouns": ["ballpoint pen", "notebook", "stapler", "paper a4", "file folder",
                  "whiteboard", "office desk", "printer", "calculator", "sticky notes",
                  "pencil case", "marker pen"],
        "adjs": ["custom logo", "promotional", "refillable", "spiral", "recycled", "metal",
                 "plastic"],
        "specs": ["a4", "a5", "80gsm", "pack of 12", "blue", "black"],
    },
}  # fmt: skip

SENTENCES = [
    "Wholesale price for bulk orders.",
    "Factory direct supply with OEM and ODM service.",
    "Custom logo and packaging available.",
    "Strict quality control before shipment.",
    "Fast delivery and reliable after-sales service.",
    "Exported to more than 50 countries.",
    "Samples are available on request.",
    "Competitive price, high quality, durable design.",
    "Suitable for supermarkets, distributors and online shops.",
    "Made with premium materials; meets international standards.",
    "Wholesale and retail; mixed orders accepted.",
    "Professional manufacturer with 15 years of experience.",
]

CERTIFICATIONS = ["CE", "RoHS", "FCC", "UL", "ISO 9001", "FDA", "GS", "CB", "ETL", "LFGB",
                  "REACH", "BSCI"]  # fmt: skip
COUNTRIES = ["CN"] * 80 + ["VN", "IN", "TR", "TH", "MY", "ID", "PK", "BD", "DE", "IT", "US",
                           "KR", "JP", "BR", "MX", "HK", "TW", "EG", "PL", "ES"]  # fmt: skip
CITIES = ["Guangzhou", "Shenzhen", "Foshan", "Ningbo", "Yiwu", "Xiamen", "Dongguan", "Hangzhou",
          "Shanghai", "Qingdao", "Zhongshan", "Suzhou", "Wenzhou", "Jinhua", "Tianjin"]  # fmt: skip
COMPANY_WORDS = ["Golden", "Sun", "Bright", "Star", "Ever", "Great", "Union", "Ocean", "Dragon",
                 "Jade", "Rising", "Harmony", "Prime", "Orient", "Silver", "Blue", "Green",
                 "Lucky", "Grand", "Unique"]  # fmt: skip
COMPANY_TRADES = ["Industrial", "Trading", "Technology", "Electric", "Manufacturing", "Import &"
                  " Export", "Houseware", "Lighting", "Machinery", "Textile"]  # fmt: skip
MOQS = [1, 10, 50, 100, 100, 200, 500, 500, 1000, 1000, 2000, 5000]
UNITS = ["pieces", "pieces", "pieces", "sets", "cartons", "pairs", "kg", "units"]


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    elif isinstance(value, datetime):
        value = value.isoformat()
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


class _Table:
    """COPY rows into a model's table: every concrete column, defaults for the ones the
    generator does not set (so fields added later keep working)."""

    def __init__(self, model, table: str | None = None):
        self.fields = list(model._meta.concrete_fields)
        self.table = table or model._meta.db_table
        self.columns = [f.column for f in self.fields]
        self.defaults = {}
        for f in self.fields:
            default = f.get_default() if f.has_default() else (None if f.null else "")
            self.defaults[f.attname] = default

    def line(self, values: dict) -> str:
        return (
            "\t".join(
                _copy_value(values[f.attname] if f.attname in values else self.defaults[f.attname])
                for f in self.fields
            )
            + "\n"
        )

    def copy(self, cursor, lines: list[str]) -> None:
        if not lines:
            return
        columns = ", ".join(f'"{c}"' for c in self.columns)
        cursor.copy_expert(f"COPY {self.table} ({columns}) FROM STDIN", io.StringIO("".join(lines)))


def product_name(rng: random.Random, vocab: dict[str, list[str]]) -> str:
    noun = rng.choice(vocab["nouns"])
    parts = []
    if rng.random() < 0.7:
        adj = rng.choice(vocab["adjs"])
        if adj not in noun and not set(adj.split()) & set(noun.split()):
            parts.append(adj)
    parts.append(noun)
    if rng.random() < 0.7:
        parts.append(rng.choice(vocab["specs"]))
    words = " ".join(parts).split()
    return " ".join(
        w.upper()
        if w in ("led", "tv", "rgb", "cnc", "ev", "pvc", "oem")
        else w.capitalize()
        if w.isalpha()
        else w
        for w in words
    )


class Command(BaseCommand):
    help = "Load a synthetic fair (approved exhibitors, booths, published products) with COPY."

    def add_arguments(self, parser):
        parser.add_argument("--exhibitors", type=int, default=200)
        parser.add_argument("--products", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--reset", action="store_true", help="Replace an earlier load.")

    def handle(self, *args, exhibitors: int, products: int, seed: int, reset: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_scale needs PostgreSQL (set DATABASE_URL).")
        if exhibitors < 1 or products < 0:
            raise CommandError("Give at least one exhibitor.")
        started = time.monotonic()
        seeded = Exhibitor.objects.filter(slug__startswith=SLUG_PREFIX)
        existing_exhibitors = seeded.count()
        if existing_exhibitors:
            existing_products = Product.objects.filter(exhibitor__in=seeded).count()
            if (existing_exhibitors, existing_products) == (exhibitors, products) and not reset:
                self.stdout.write(f"Already seeded: {exhibitors} exhibitors, {products} products.")
                return
            if not reset:
                raise CommandError(
                    f"An earlier load holds {existing_exhibitors} exhibitors and "
                    f"{existing_products} products; run with --reset to replace it."
                )
            self._remove_seeded()
        sections = list(
            Category.objects.filter(kind=Category.Kind.SECTION).select_related("parent")
        )
        if not sections:
            raise CommandError("No exhibition sections: run migrate first.")
        rng = random.Random(seed)  # noqa: S311 (synthetic data, reproducible by seed)
        parallel = products >= 100_000 and not connection.in_atomic_block
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # Django's foreign keys are deferred: checks pending from earlier writes in an
                # enclosing transaction would forbid the ALTER TABLE below.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                self._search_indexes_drop(cursor)
                cursor.execute(
                    "ALTER TABLE exhibitors_product DISABLE TRIGGER exhibitors_product_search"
                )
                exhibitor_ids = self._load_exhibitors(cursor, rng, exhibitors, sections)
                self._stage_products(cursor, rng, products, exhibitor_ids, sections)
                if not parallel:
                    self._insert_from_stage(cursor, None)
            if parallel:
                self._parallel(self._insert_from_stage, [(0, 2), (1, 2)])
        finally:
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS seed_product_stage")
                cursor.execute(
                    "ALTER TABLE exhibitors_product ENABLE TRIGGER exhibitors_product_search"
                )
                self._sequence_sync(cursor, "exhibitors_product")
        loaded = time.monotonic()
        self.stdout.write(f"Rows loaded in {loaded - started:.1f} s; building indexes")
        if parallel:
            names = list(SEARCH_INDEXES)
            self._parallel(self._indexes_create, [names[0::2], names[1::2]])
        else:
            with connection.cursor() as cursor:
                self._indexes_create(cursor, list(SEARCH_INDEXES))
        indexed = time.monotonic()
        words = search_words_refresh()
        with connection.cursor() as cursor:
            for table in ("exhibitors_exhibitor", "exhibitors_booth", "exhibitors_product",
                          "exhibitors_searchword"):  # fmt: skip
                cursor.execute(f"ANALYZE {table}")
        done = time.monotonic()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {exhibitors} exhibitors and {products} products in "
                f"{done - started:.1f} s (rows {loaded - started:.1f} s, indexes "
                f"{indexed - loaded:.1f} s, word list of {words} words and ANALYZE "
                f"{done - indexed:.1f} s)."
            )
        )

    # --- steps -----------------------------------------------------------------------------

    def _remove_seeded(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            others = Exhibitor.objects.exclude(slug__startswith=SLUG_PREFIX).exists()
            if not others:
                cursor.execute(
                    "TRUNCATE exhibitors_product, exhibitors_booth, exhibitors_exhibitor CASCADE"
                )
            else:
                seeded = "SELECT id FROM exhibitors_exhibitor WHERE slug LIKE 'scale-%'"
                cursor.execute(f"DELETE FROM exhibitors_product WHERE exhibitor_id IN ({seeded})")  # noqa: S608
                Exhibitor.objects.filter(slug__startswith=SLUG_PREFIX).delete()

    def _search_indexes_drop(self, cursor) -> None:
        for name in SEARCH_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")

    def _indexes_create(self, cursor, names: list[str]) -> None:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for name in names:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON exhibitors_product {SEARCH_INDEXES[name]}"
            )

    def _parallel(self, work, args_list) -> None:
        errors: list[BaseException] = []

        def run(args):
            try:
                with connections["default"].cursor() as cursor:
                    work(cursor, args)
            except BaseException as exc:  # re-raised in the main thread
                errors.append(exc)
            finally:
                connections["default"].close()

        threads = [threading.Thread(target=run, args=(a,)) for a in args_list]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def _next_id(self, cursor, table: str) -> int:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]

    def _sequence_sync(self, cursor, table: str) -> None:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )

    def _load_exhibitors(self, cursor, rng, count: int, sections) -> list[tuple[int, Category]]:
        now = datetime.now(UTC)
        first = self._next_id(cursor, "exhibitors_exhibitor")
        ex_table, booth_table = _Table(Exhibitor), _Table(Booth)
        ex_lines, booth_lines, ids = [], [], []
        booth_id = self._next_id(cursor, "exhibitors_booth")
        for n in range(count):
            pk = first + n
            section = rng.choice(sections)
            city = rng.choice(CITIES)
            trade = rng.choice(COMPANY_TRADES)
            name = f"{city} {rng.choice(COMPANY_WORDS)} {trade} Co {pk}"
            created = now - timedelta(days=rng.randint(30, 900))
            ex_lines.append(
                ex_table.line(
                    {
                        "id": pk,
                        "display_name": name,
                        "legal_name": f"{name}, Ltd.",
                        "slug": f"{SLUG_PREFIX}{pk}",
                        "country": rng.choice(COUNTRIES),
                        "province": "Guangdong",
                        "city": city,
                        "website": f"https://example.com/{pk}",
                        "year_founded": rng.randint(1985, 2022),
                        "description": f"{name} makes {section.name.lower()}. "
                        + " ".join(rng.sample(SENTENCES, 2)),
                        "status": Exhibitor.Status.APPROVED,
                        "reviewed_at": created,
                        "is_live": rng.random() < 0.02,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
            )
            booth_lines.append(
                booth_table.line(
                    {
                        "id": booth_id + n,
                        "exhibitor_id": pk,
                        "tagline": f"Quality {section.name.lower()} since {created.year}",
                        "story": " ".join(rng.sample(SENTENCES, 3)),
                        "section_id": section.pk,
                        "certificates": rng.sample(CERTIFICATIONS, 2),
                        "contact_person": "Sales Department",
                        "contact_email": f"sales{pk}@example.com",
                        "is_published": True,
                        "published_at": created,
                        "updated_at": created,
                    }
                )
            )
            ids.append((pk, section))
        ex_table.copy(cursor, ex_lines)
        booth_table.copy(cursor, booth_lines)
        self._sequence_sync(cursor, "exhibitors_exhibitor")
        self._sequence_sync(cursor, "exhibitors_booth")
        return ids

    def _stage_products(self, cursor, rng, count: int, exhibitors, sections) -> None:
        cursor.execute("DROP TABLE IF EXISTS seed_product_stage")
        cursor.execute(
            "CREATE UNLOGGED TABLE seed_product_stage (LIKE exhibitors_product INCLUDING DEFAULTS)"
        )
        table = _Table(Product, "seed_product_stage")
        by_parent: dict[int, list[Category]] = {}
        for section in sections:
            by_parent.setdefault(section.parent_id, []).append(section)
        now = datetime.now(UTC)
        first = self._next_id(cursor, "exhibitors_product")
        lines: list[str] = []
        for n in range(count):
            pk = first + n
            exhibitor_id, home = rng.choice(exhibitors)
            # Most products in the exhibitor's own section's category, some elsewhere.
            section = (
                rng.choice(by_parent[home.parent_id])
                if rng.random() < 0.85
                else rng.choice(sections)
            )
            vocab = CATALOGUE.get(section.parent.slug) or CATALOGUE["consumer-goods"]
            name = product_name(rng, vocab)
            price = Decimal(round(rng.lognormvariate(2.5, 1.4), 2) + 0.1).quantize(Decimal("0.01"))
            currency = "USD" if rng.random() < 0.85 else rng.choice(["CNY", "EUR"])
            created = now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
            keywords = ", ".join(rng.sample(vocab["nouns"], 2))
            lines.append(
                table.line(
                    {
                        "id": pk,
                        "exhibitor_id": exhibitor_id,
                        "sku": f"SC-{pk}",
                        "category_id": section.pk,
                        "name": name,
                        "description": f"{name}. "
                        + " ".join(rng.sample(SENTENCES, 2))
                        + f" Ideal as {rng.choice(vocab['nouns'])} supplier stock.",
                        "specs": [["Material", rng.choice(vocab["adjs"])]],
                        "keywords": keywords,
                        "moq": rng.choice(MOQS),
                        "moq_unit": rng.choice(UNITS),
                        "price_min": price,
                        "price_max": (
                            price * Decimal(rng.choice(["1", "1.2", "1.5", "2"]))
                        ).quantize(Decimal("0.01")),
                        "currency": currency,
                        "port_of_loading": rng.choice(["Shenzhen", "Ningbo", "Shanghai", "Xiamen"]),
                        "lead_time_days": rng.choice([7, 15, 20, 30, 45]),
                        "hs_code": "8528.72",
                        "certifications": rng.sample(CERTIFICATIONS, rng.randint(0, 3)),
                        "samples": rng.choice(["none", "free", "paid"]),
                        "is_new_launch": rng.random() < 0.05,
                        "is_published": True,
                        "search_vector": None,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
            )
            if len(lines) >= CHUNK:
                table.copy(cursor, lines)
                lines = []
        table.copy(cursor, lines)

    def _insert_from_stage(self, cursor, part: tuple[int, int] | None) -> None:
        columns = [f.column for f in Product._meta.concrete_fields]
        target = ", ".join(f'"{c}"' for c in columns)
        source = ", ".join(
            "exhibitors_product_vector(s.name, s.keywords, s.description, s.category_id)"
            if c == "search_vector"
            else f's."{c}"'
            for c in columns
        )
        where = f"WHERE s.id % {part[1]} = {part[0]}" if part else ""
        cursor.execute(
            f"INSERT INTO exhibitors_product ({target}) SELECT {source} "  # noqa: S608
            f"FROM seed_product_stage s {where}"
        )
