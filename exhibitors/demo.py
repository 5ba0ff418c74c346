"""Demo exhibitors for ``manage.py seed_demo``: approved companies with published booths,
generated pictures and catalogues, plus one application waiting for review. Built through
the real services; safe to run again (existing companies are left as they are)."""

from __future__ import annotations

import io
import math
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

from exhibitors import services
from exhibitors.models import Exhibitor, ExhibitorMember
from fair.models import Category, User

DEMO_COMPANIES = [
    {
        "display_name": "Sunrise Electronics",
        "city": "Guangzhou",
        "province": "Guangdong",
        "category": "electronics-appliances",
        "section": "consumer-electronics",
        "tagline": "Big-screen smart TVs, 8 new models this fair",
        "story": (
            "Sunrise has built televisions in Guangzhou since 1998 and ships to 80 countries.\n\n"
            "This fair we launch eight new models, including 85-inch sets made for the "
            "Middle East and Africa."
        ),
        "colour": (178, 38, 30),
        "products": [
            ("TV-55-4K", "55-inch 4K Smart TV", 180, 220, 200, True),
            ("TV-65-4K", "65-inch 4K Smart TV", 290, 340, 100, True),
            ("TV-75-QLED", "75-inch QLED Smart TV", 520, 610, 50, True),
            ("TV-85-MEA", "85-inch Smart TV, Middle East edition", 890, 990, 20, True),
            ("TV-32-HD", "32-inch HD LED TV", 62, 75, 500, False),
            ("TV-43-FHD", "43-inch Full HD Smart TV", 105, 128, 300, False),
            ("SB-2.1", "2.1 Soundbar with wireless subwoofer", 38, 49, 300, True),
            ("WM-55", "Slim wall mount for 40-65 inch TVs", 4.5, 6.2, 1000, False),
        ],
    },
    {
        "display_name": "Lumen Lighting",
        "city": "Foshan",
        "province": "Guangdong",
        "category": "lighting-electrical",
        "section": "lighting-equipment",
        "tagline": "LED panels and street lights, CE and RoHS certified",
        "story": "Lumen designs LED lighting for offices, warehouses and streets.",
        "colour": (30, 90, 170),
        "products": [
            ("LP-600", "LED Panel Light 600x600 40W", 8.5, 9.9, 500, False),
            ("SL-100", "LED Street Light 100W IP66", 35, 42, 100, True),
            ("HB-150", "UFO High Bay Light 150W", 22, 27, 200, False),
            ("TB-18", "LED Tube T8 18W", 1.1, 1.4, 2000, False),
        ],
    },
    {
        "display_name": "Golden Kitchen Ware",
        "city": "Chaozhou",
        "province": "Guangdong",
        "category": "consumer-goods",
        "section": None,
        "tagline": "Stainless steel cookware for retailers and e-commerce",
        "story": "Three generations of pot makers. OEM and ODM welcome.",
        "colour": (200, 150, 20),
        "products": [
            ("SSP-24", "Stainless steel stock pot 24 cm", 6.8, 8.2, 600, False),
            ("SSP-SET5", "5-piece stainless steel cookware set", 24, 29, 300, True),
            ("WOK-32", "Carbon steel wok 32 cm", 5.2, 6.1, 800, False),
        ],
    },
    {
        "display_name": "SmartBin Home",
        "city": "Ningbo",
        "province": "Zhejiang",
        "category": "consumer-goods",
        "section": None,
        "tagline": "Sensor rubbish bins designed from real sales data",
        "story": "Our touchless bin became a category best-seller at home; now it goes abroad.",
        "colour": (40, 140, 90),
        "products": [
            ("BIN-12", "Touchless sensor bin 12 L", 14, 17, 500, True),
            ("BIN-30", "Dual-compartment recycling bin 30 L", 21, 26, 300, True),
        ],
    },
]

PENDING_COMPANY = {
    "display_name": "Pearl River Textiles",
    "city": "Guangzhou",
    "category": "textiles-garments",
}


def _picture(size: tuple[int, int], colour: tuple[int, int, int], label: str) -> bytes:
    width, height = size
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    for x in range(0, width, max(1, width // 24)):
        shade = int(40 * (1 + math.sin(x / width * math.tau)))
        draw.line([(x, 0), (x, height)], fill=tuple(min(255, c + shade) for c in colour))
    font = ImageFont.load_default(size=max(14, min(height // 6, width // max(8, len(label)))))
    draw.text((width // 20, height // 2), label, fill=(255, 255, 255), font=font, anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def _licence() -> SimpleUploadedFile:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    return SimpleUploadedFile("licence.pdf", pdf, content_type="application/pdf")


def demo_exhibitors_load(*, organiser: User, make_user, password: str) -> list[tuple[str, str]]:
    """Create the demo companies (if missing); returns (email, description) log-ins."""
    logins: list[tuple[str, str]] = []
    for company in DEMO_COMPANIES:
        slug_base = company["display_name"].split()[0].lower()
        owner = make_user(f"{slug_base}.owner@exhibitor.example", f"{slug_base.title()} Owner")
        sales = make_user(f"{slug_base}.sales@exhibitor.example", f"{slug_base.title()} Sales")
        logins += [
            (owner.email, f"owner of {company['display_name']}"),
            (sales.email, f"sales staff of {company['display_name']}"),
        ]
        if ExhibitorMember.objects.filter(user=owner).exists():
            continue
        category = Category.objects.get(slug=company["category"])
        section = (
            Category.objects.get(slug=company["section"])
            if company["section"]
            else category.children.order_by("position").first()
        )
        exhibitor = services.exhibitor_apply(
            user=owner,
            display_name=company["display_name"],
            legal_name=f"{company['display_name']} Co., Ltd.",
            country="CN",
            province=company["province"],
            city=company["city"],
            website=f"https://{slug_base}.example",
            year_founded=1998,
            main_categories=[category],
            description=company["story"],
            business_licence=_licence(),
        )
        services.exhibitor_approve(actor=organiser, exhibitor_id=exhibitor.pk)
        ExhibitorMember.objects.create(exhibitor=exhibitor, user=sales, role="sales")
        colour = company["colour"]
        services.booth_update(
            user=owner,
            exhibitor_id=exhibitor.pk,
            data={
                "tagline": company["tagline"],
                "story": company["story"],
                "section": section,
                "certificates": ["ISO 9001", "BSCI"],
                "contact_person": owner.full_name,
                "contact_email": owner.email,
                "contact_phone": "+86 20 0000 0000",
            },
            files={
                "logo": _upload("logo.jpg", _picture((320, 320), colour, company["display_name"])),
                "banner": _upload("banner.jpg", _picture((1600, 400), colour, company["tagline"])),
                "panorama": _upload(
                    "panorama.jpg", _picture((2048, 1024), colour, "360° showroom")
                ),
            },
        )
        services.booth_publish(user=owner, exhibitor_id=exhibitor.pk, published=True)
        for sku, name, low, high, moq, new in company["products"]:
            product = services.product_create(
                user=owner,
                exhibitor_id=exhibitor.pk,
                data={
                    "sku": sku,
                    "name": name,
                    "category": section,
                    "description": f"{name} from {company['display_name']}. OEM welcome.",
                    "specs": [["Warranty", "2 years"], ["Packaging", "Export carton"]],
                    "moq": moq,
                    "moq_unit": "pieces",
                    "price_min": Decimal(str(low)),
                    "price_max": Decimal(str(high)),
                    "currency": "USD",
                    "incoterm": "FOB",
                    "port_of_loading": "Guangzhou"
                    if company["province"] == "Guangdong"
                    else "Ningbo",
                    "lead_time_days": 30,
                    "certifications": ["CE", "RoHS"],
                    "samples": "paid",
                    "is_new_launch": new,
                    "is_published": True,
                },
            )
            services.product_image_add(
                user=owner,
                product_id=product.pk,
                upload=_upload("p.jpg", _picture((800, 600), colour, name)),
                alt_text=name,
            )
    applicant = make_user("pearl.owner@exhibitor.example", "Pearl Owner")
    logins.append((applicant.email, "applicant waiting for review"))
    if not Exhibitor.objects.filter(members__user=applicant).exists():
        services.exhibitor_apply(
            user=applicant,
            display_name=PENDING_COMPANY["display_name"],
            legal_name="Pearl River Textiles Co., Ltd.",
            country="CN",
            city=PENDING_COMPANY["city"],
            main_categories=Category.objects.filter(slug=PENDING_COMPANY["category"]),
            description="Cotton and linen fabrics, garments for export.",
            business_licence=_licence(),
        )
    return logins
