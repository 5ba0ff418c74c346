"""A room's transcript as a PDF: the header, every message, the quotes and the purchase
intents, in the downloader's language and time zone.

Built with fpdf2 (pure Python) and shaped with HarfBuzz (``uharfbuzz``), so Arabic is joined
and laid out right to left, and mixed-direction lines follow the Unicode bidi algorithm.
Fonts are Debian's (installed by ``.ci/run`` and the deployment image):

* DejaVu Sans (``fonts-dejavu-core``): Latin, Cyrillic, Greek, Arabic, Hebrew;
* Droid Sans Fallback (``fonts-droid-fallback``): Chinese, Japanese kana.

A character none of them has (Korean, Thai, Devanagari, emoji) is printed as a visible box
(``MISSING_GLYPH``) rather than silently dropped. Without DejaVu Sans the transcript falls
back to the PDF core font (Latin-1 only, other characters boxed): never an error page.

Memory stays bounded for long rooms: messages come from the database in chunks of 500
(``transcript_messages`` iterates), and the document holds only its page content streams
(about 3 KB per page, a 5,000-message room is some 250 pages); fonts are subset on output.

The caller has already decided the downloader is a party (``negotiation_for_party``)."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import YPos

from negotiations.models import Message, Negotiation, PurchaseIntent, Quote, Side
from negotiations.selectors import transcript_messages

logger = logging.getLogger(__name__)

FONT_DIR = Path("/usr/share/fonts/truetype")
BODY_FONT = FONT_DIR / "dejavu" / "DejaVuSans.ttf"
BODY_BOLD_FONT = FONT_DIR / "dejavu" / "DejaVuSans-Bold.ttf"
CJK_FONT = FONT_DIR / "droid" / "DroidSansFallbackFull.ttf"
MISSING_GLYPH = "\u25a1"  # WHITE SQUARE: DejaVu Sans has it
_RTL_CLASSES = frozenset({"R", "AL"})
_LTR_CLASSES = frozenset({"L"})
_INK = (33, 37, 41)
_MUTED = (108, 117, 125)


@dataclass(frozen=True)
class FontSet:
    family: str
    unicode: bool
    body: Path | None = None
    body_bold: Path | None = None
    cjk: Path | None = None


@functools.cache
def font_set() -> FontSet:
    """The fonts present on this machine (looked up once per process)."""
    if not BODY_FONT.is_file():
        logger.warning("DejaVu Sans is missing (%s): transcripts print Latin-1 only.", BODY_FONT)
        return FontSet(family="helvetica", unicode=False)
    if not CJK_FONT.is_file():
        logger.warning("Droid Sans Fallback is missing (%s): Chinese prints as boxes.", CJK_FONT)
    return FontSet(
        family="body",
        unicode=True,
        body=BODY_FONT,
        body_bold=BODY_BOLD_FONT if BODY_BOLD_FONT.is_file() else None,
        cjk=CJK_FONT if CJK_FONT.is_file() else None,
    )


@functools.cache
def _cmap(path: Path | None) -> frozenset[int]:
    if path is None:
        return frozenset()
    from fontTools.ttLib import TTFont  # fpdf2's own dependency

    return frozenset(TTFont(path, lazy=True).getBestCmap())


@functools.cache
def _covered_codepoints() -> frozenset[int]:
    fonts = font_set()
    if not fonts.unicode:
        return frozenset(range(32, 256))
    return _cmap(fonts.body) | _cmap(fonts.cjk)


def printable(text: str) -> str:
    """``text`` with control characters removed and every visible character that no font
    has replaced by ``MISSING_GLYPH`` (marks, format characters and spaces pass)."""
    covered = _covered_codepoints()
    out = []
    for char in text:
        if char in "\n\t":
            out.append(" " if char == "\t" else char)
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co", "Cn"):
            continue
        if ord(char) in covered or category[0] in "MZC":
            out.append(char)
        else:
            out.append(MISSING_GLYPH)
    return "".join(out)


def is_rtl(text: str) -> bool:
    """Whether the first strongly directional character is right-to-left (a paragraph in
    Arabic or Hebrew is then aligned right)."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in _RTL_CLASSES:
            return True
        if direction in _LTR_CLASSES:
            return False
    return False


#: Scripts that need HarfBuzz (joining) and the bidi algorithm: Hebrew, Arabic, Syriac and
#: their presentation forms. Other lines skip both (shaping costs ~10x per line).
_NEEDS_SHAPING = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe]")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
#: Line-break opportunities: after a word and its spaces, or after any CJK character.
_TOKENS = re.compile(f"[{_CJK}][^\\S\\n]*|[^\\s{_CJK}]+[^\\S\\n]*|[^\\S\\n]+")
#: Shaped (joined) Arabic can be a little wider than its letters alone.
_SHAPED_SLACK = 0.94
_PT_TO_MM = 25.4 / 72


class TranscriptPDF(FPDF):
    """An A4 document with a page footer and paragraphs that wrap fast.

    fpdf2's ``multi_cell`` measures a paragraph again for every character it adds (and
    shapes it again with text shaping on): about 10 ms per message, 30 to 80 s for a
    5,000-message room. ``paragraph`` instead breaks lines itself from cached character
    widths, once, and prints each line with ``cell``, shaping only the lines in scripts that
    need it."""

    def __init__(self, *, title: str, footer_label: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._footer_label = footer_label
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(title)
        self.set_creator("CloudFair")
        self.font_files = font_set()
        self.body_family = self.font_files.family
        self.fonts_unicode = self.font_files.unicode
        self.bold_style = "B"
        if self.fonts_unicode:
            self.add_font("body", "", self.font_files.body)
            if self.font_files.body_bold is not None:
                self.add_font("body", "B", self.font_files.body_bold)
            else:
                self.bold_style = ""
        self._body_cmap = _cmap(self.font_files.body)
        self._cjk_cmap = _cmap(self.font_files.cjk) - self._body_cmap
        self._cjk_loaded = False
        self._shaping: tuple[bool, str] = (False, "")
        self._fallback = False
        # Message text is printed as it is: no "{nb}" alias turning into the page count.
        self.alias_nb_pages("")
        self._widths: dict[tuple[str, str], float] = {}

    def footer(self) -> None:
        self.set_y(-11)
        self._line_mode("", "")
        self.set_font(self.body_family, "", 7)
        self.set_text_color(*_MUTED)
        self.cell(0, 5, self.text_of(f"{self._footer_label} · {self.page_no()}"), align="C")

    def text_of(self, value) -> str:
        text = printable("" if value is None else str(value))
        if not self.fonts_unicode:
            return text.encode("latin-1", "replace").decode("latin-1")
        if (
            not self._cjk_loaded
            and self._cjk_cmap
            and any(ord(char) in self._cjk_cmap for char in text)
        ):
            # Droid Sans Fallback is 4 MB: parsed only for transcripts that need it.
            self.add_font("cjk", "", self.font_files.cjk)
            self._cjk_loaded = True
        return text

    def _line_mode(self, line: str, direction: str) -> None:
        """Shaping and font fallback only for the lines that need them: fpdf2 then takes its
        fast path (one fragment, no per-character font lookup) for all the others."""
        fallback = self._cjk_loaded and any(ord(char) in self._cjk_cmap for char in line)
        if fallback != self._fallback:
            self.set_fallback_fonts(["cjk"] if fallback else [], exact_match=False)
            self._fallback = fallback
        self._shape(bool(_NEEDS_SHAPING.search(line)), direction)

    def _shape(self, on: bool, direction: str) -> None:
        if not self.fonts_unicode or self._shaping == (on, direction):
            return
        self._shaping = (on, direction)
        if on:
            self.set_text_shaping(use_shaping_engine=True, direction=direction)
        else:
            self.set_text_shaping(use_shaping_engine=False)

    def _width_units(self, text: str, style: str) -> float:
        """The advance of ``text`` in thousandths of the font size (unshaped)."""
        body = self.fonts[f"body{style}" if f"body{style}" in self.fonts else "body"]
        cjk = self.fonts.get("cjk")
        total = 0.0
        widths = self._widths
        for char in text:
            width = widths.get((char, style))
            if width is None:
                code = ord(char)
                if cjk is not None and code in self._cjk_cmap:
                    width = cjk.cw[code]
                else:
                    width = body.cw[code]
                widths[(char, style)] = width
            total += width
        return total

    def wrap(self, text: str, width_mm: float, size: float, style: str) -> list[str]:
        """``text`` broken into lines no wider than ``width_mm`` at ``size`` points."""
        if not self.fonts_unicode:
            self.set_font(self.body_family, style, size)
            return self.multi_cell(width_mm, None, text, dry_run=True, output="LINES")
        lines: list[str] = []
        for para in text.split("\n"):
            room = width_mm / (size * 0.001 * _PT_TO_MM)
            if _NEEDS_SHAPING.search(para):
                room *= _SHAPED_SLACK
            line, line_width = "", 0.0
            for token in _TOKENS.findall(para):
                word = token.rstrip()
                word_width = self._width_units(word, style)
                if line and line_width + word_width > room:
                    lines.append(line.rstrip())
                    line, line_width = "", 0.0
                    if not word:
                        continue
                if word_width > room:  # longer than a line: break it between characters
                    for char in token:
                        char_width = self._width_units(char, style)
                        if line and line_width + char_width > room:
                            lines.append(line.rstrip())
                            line, line_width = "", 0.0
                        line += char
                        line_width += char_width
                    continue
                line += token
                line_width += word_width + self._width_units(token[len(word) :], style)
            lines.append(line.rstrip())
        return lines

    def paragraph(
        self,
        text: str,
        *,
        size: float = 9.5,
        bold: bool = False,
        color=_INK,
        indent: float = 0,
        width: float | None = None,
        align: str | None = None,
        direction: str | None = None,
    ) -> float:
        """Print ``text`` wrapped from ``indent`` (mm from the left margin); returns the y
        below it. By default a right-to-left paragraph is laid out and aligned right."""
        text = self.text_of(text)
        style = self.bold_style if bold else ""
        self.set_font(self.body_family, style, size)
        self.set_text_color(*color)
        direction = direction or ("rtl" if is_rtl(text) else "ltr")
        align = align or ("R" if direction == "rtl" else "L")
        width = width or self.w - self.l_margin - self.r_margin - indent
        for line in self.wrap(text, width, size, style):
            self._line_mode(line, direction)
            self.set_x(self.l_margin + indent)
            self.cell(width, size * 0.5, line, align=align, new_y=YPos.NEXT)
        self.set_x(self.l_margin)
        return self.get_y()

    def heading(self, text: str) -> None:
        self.ln(3)
        self.paragraph(text, size=12, bold=True, align="L")
        self.set_draw_color(*_MUTED)
        self.line(self.l_margin, self.get_y() + 0.5, self.w - self.r_margin, self.get_y() + 0.5)
        self.ln(2)

    def fields(self, rows: Iterable[tuple[str, object]]) -> None:
        """Label / value rows; both wrap within their column, values start at the column's
        left edge whatever their script (the document reads left to right)."""
        label_width = 42
        for label, value in rows:
            value = "" if value is None else str(value)
            if not value:
                continue
            if self.will_page_break(10):
                self.add_page()
            top = self.get_y()
            label_bottom = self.paragraph(
                label, size=8.5, bold=True, color=_MUTED, width=label_width - 2, align="L"
            )
            self.set_y(top)
            value_bottom = self.paragraph(value, indent=label_width, align="L")
            self.set_y(max(label_bottom, value_bottom))


def _local(value: datetime | None, tz) -> str:
    if value is None:
        return ""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _status_label(choices, value: str) -> str:
    return str(dict(choices).get(value, value))


def _side_label(side: str) -> str:
    return str(dict(Side.choices).get(side, side))


def _intent_of(quote: Quote) -> PurchaseIntent | None:
    try:
        return quote.purchase_intent
    except PurchaseIntent.DoesNotExist:
        return None


def _author_label(message: Message, negotiation: Negotiation) -> str:
    name = ""
    if message.author_id and message.author is not None:
        name = message.author.full_name or message.author.get_short_name()
    if message.side == Side.EXHIBITOR:
        company = negotiation.exhibitor.display_name
        return f"{name} ({company})" if name else company
    if message.side == Side.BUYER:
        return f"{name} ({_side_label(Side.BUYER)})" if name else _side_label(Side.BUYER)
    return _("System")


def _quote_rows(quote: Quote, tz) -> list[tuple[str, object]]:
    lead_time = ""
    if quote.lead_time_days is not None:
        lead_time = _("%(days)s days") % {"days": quote.lead_time_days}
    intent = _intent_of(quote) if quote.status == Quote.Status.ACCEPTED else None
    return [
        (_("Status"), _status_label(Quote.Status.choices, quote.status)),
        (_("Sent by"), _side_label(quote.side)),
        (_("Sent at"), _local(quote.created_at, tz)),
        (_("Product"), quote.product_text),
        (_("Quantity"), f"{quote.quantity.normalize():f} {quote.unit}"),
        (_("Unit price"), f"{quote.unit_price.normalize():f} {quote.currency}"),
        (_("Total"), f"{quote.total} {quote.currency}"),
        (_("Incoterm"), " ".join(filter(None, [quote.incoterm, quote.port]))),
        (_("Lead time"), lead_time),
        (_("Payment terms"), quote.payment_terms),
        (_("Sample terms"), quote.sample_terms),
        (_("Valid until"), _local(quote.valid_until, tz)),
        (_("Decided at"), _local(quote.decided_at, tz)),
        (_("Purchase intent"), f"{intent.total} {intent.currency}" if intent else ""),
    ]


def transcript_pdf(*, negotiation: Negotiation, tz: ZoneInfo | None = None) -> bytes:
    """The room's transcript as PDF bytes, in the active language; times in ``tz`` (the
    downloader's zone, by default the active one). Queries: the header's buyer profile, the
    messages in chunks of 500 (with authors, attachments, quotes and intents joined), the
    quotes and the intents."""
    tz = tz or timezone.get_current_timezone()
    title = _("Negotiation %(id)s: transcript") % {"id": negotiation.pk}
    pdf = TranscriptPDF(title=title, footer_label=title)
    pdf.add_page()
    pdf.paragraph(title, size=15, bold=True, align="L")
    pdf.ln(2)

    buyer = negotiation.buyer
    profile = getattr(buyer, "buyer_profile", None)
    pdf.fields(
        [
            (_("Buyer"), buyer.full_name or buyer.get_short_name()),
            (_("Company"), profile.company if profile else ""),
            (_("Exhibitor"), negotiation.exhibitor.display_name),
            (_("Opened at"), _local(negotiation.created_at, tz)),
            (_("Status"), _status_label(Negotiation.Status.choices, negotiation.status)),
            (_("Downloaded at"), _local(timezone.now(), tz)),
            (_("Time zone"), str(tz)),
        ]
    )

    pdf.heading(_("Messages"))
    count = 0
    for message in transcript_messages(negotiation=negotiation):
        count += 1
        meta = f"#{message.seq} · {_local(message.created_at, tz)} · "
        meta += _author_label(message, negotiation)
        pdf.paragraph(meta, size=7.5, color=_MUTED, align="L", direction="ltr")
        if message.kind == Message.Kind.SYSTEM:
            pdf.paragraph(message.text, size=9, color=_MUTED)
        elif message.kind == Message.Kind.ATTACHMENT:
            attachment = getattr(message, "attachment", None)
            name = attachment.safe_name if attachment is not None else ""
            pdf.paragraph(_("Attachment: %(name)s") % {"name": name})
        elif message.kind == Message.Kind.QUOTE:
            quote = getattr(message, "quote", None)
            if quote is not None:
                pdf.paragraph(
                    _("Quote version %(version)s: %(product)s, %(total)s %(currency)s (%(status)s)")
                    % {
                        "version": quote.version,
                        "product": quote.product_text,
                        "total": quote.total,
                        "currency": quote.currency,
                        "status": _status_label(Quote.Status.choices, quote.status),
                    }
                )
        else:
            pdf.paragraph(message.text)
        pdf.ln(1.5)
    if count == 0:
        pdf.paragraph(_("No messages yet."), color=_MUTED)

    quotes = list(negotiation.quotes.select_related("purchase_intent").order_by("created_at", "pk"))
    pdf.heading(_("Quotes"))
    if not quotes:
        pdf.paragraph(_("No quotes."), color=_MUTED)
    for quote in quotes:
        pdf.paragraph(_("Quote version %(version)s") % {"version": quote.version}, bold=True)
        pdf.fields(_quote_rows(quote, tz))
        pdf.ln(2)

    intents = list(negotiation.purchase_intents.select_related("quote").order_by("created_at"))
    pdf.heading(_("Purchase intents"))
    if not intents:
        pdf.paragraph(_("No purchase intents."), color=_MUTED)
    for intent in intents:
        pdf.paragraph(
            _("%(total)s %(currency)s, from quote version %(version)s, accepted at %(at)s")
            % {
                "total": intent.total,
                "currency": intent.currency,
                "version": intent.quote.version,
                "at": _local(intent.created_at, tz),
            }
        )
    return bytes(pdf.output())
