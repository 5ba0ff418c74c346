"""From a row's cells to a validated product: the model's own validators decide."""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from exhibitors.imports.columns import COLUMN_NAMES, MAX_CERTIFICATIONS, MAX_SPECS
from exhibitors.models import Exhibitor, Product
from fair.models import Category

# --- Rows to products ------------------------------------------------------------------------


# How yes/no cells may be written. An empty cell means the field's default (for new products
# and updates alike), so a file says the whole truth about the columns it has; columns it
# does not have are left as they are.
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}


def _parse_int(text: str) -> int:
    value = Decimal(text.replace(" ", ""))
    if value != value.to_integral_value():
        raise ValueError
    return int(value)


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError


def _parse_specs(text: str) -> list[list[str]]:
    specs = []
    for part in text.replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            name, sep, value = part.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ValidationError(
                _("Write each specification as name=value, separated by semicolons: “%(part)s”.")
                % {"part": part[:60]}
            )
        if len(name) > 80 or len(value) > 200:
            raise ValidationError(
                _("A specification name has at most 80 characters and a value at most 200.")
            )
        specs.append([name, value])
    if len(specs) > MAX_SPECS:
        raise ValidationError(_("At most %(max)s specifications.") % {"max": MAX_SPECS})
    return specs


def _parse_certifications(text: str) -> list[str]:
    items = [item.strip() for item in text.replace("\n", ";").split(";") if item.strip()]
    if len(items) > MAX_CERTIFICATIONS:
        raise ValidationError(_("At most %(max)s certifications.") % {"max": MAX_CERTIFICATIONS})
    if any(len(item) > 120 for item in items):
        raise ValidationError(_("A certification has at most 120 characters."))
    return items


def _field_default(name: str):
    model_field = Product._meta.get_field(name)
    return model_field.get_default()


def _convert(column: str, text: str, sections: dict[str, Category], categories: set[str]):
    """The Python value of one cell. Raises ValidationError (shown for this column)."""
    text = text.strip()
    if column == "category":
        if not text:
            raise ValidationError(_("This column is required."))
        slug = text.lower()
        section = sections.get(slug)
        if section is None:
            if slug in categories:
                raise ValidationError(
                    _("“%(value)s” is a product category; give one of its exhibition sections.")
                    % {"value": text}
                )
            raise ValidationError(
                _("Unknown exhibition section “%(value)s” (see the template's Sections sheet).")
                % {"value": text[:80]}
            )
        return section
    if column in ("sku", "name") and not text:
        raise ValidationError(_("This column is required."))
    if not text:
        return _field_default(column)
    try:
        if column in ("moq", "lead_time_days"):
            return _parse_int(text)
        if column in ("price_min", "price_max"):
            value = Decimal(text.replace(" ", ""))
            if not value.is_finite():
                raise ValueError
            return value
        if column in ("is_new_launch", "is_published"):
            return _parse_bool(text)
    except (InvalidOperation, ValueError):
        if column in ("is_new_launch", "is_published"):
            raise ValidationError(_("Write yes or no.")) from None
        if column in ("moq", "lead_time_days"):
            raise ValidationError(_("Enter a whole number.")) from None
        raise ValidationError(_("Enter a number such as 12.50 (a dot for decimals).")) from None
    if column == "specs":
        return _parse_specs(text)
    if column == "certifications":
        return _parse_certifications(text)
    if column in ("currency", "incoterm"):
        return text.upper()
    if column == "samples":
        return text.lower()
    return text


_FIELD_OF_COLUMN = {name: name for name in COLUMN_NAMES}
# Validated by the importer itself (one lookup for all rows) instead of one query per row.
_FULL_CLEAN_EXCLUDE = ["exhibitor", "category", "model_3d", "search_vector"]
# Constraints are not checked row by row in Python (Django does that with one query per row
# and constraint: most of the import's time). The SKU's uniqueness is checked against the
# prefetched catalogue and within the file; the price-range check constraint has its twin in
# Product.clean(); and the database enforces every constraint on write, where a violation
# sends the chunk row by row and reports the row with the constraint's own message.


def _errors_of(error: ValidationError) -> list[tuple[str, str]]:
    if hasattr(error, "error_dict"):
        result = []
        for name, messages in error.message_dict.items():
            column = name if name in COLUMN_NAMES else ""
            result.extend((column, message) for message in messages)
        return result
    return [("", message) for message in error.messages]


def build_row(
    *,
    exhibitor: Exhibitor,
    columns: list[str],
    cells: dict[str, str],
    existing: Product | None,
    sections: dict[str, Category],
    categories: set[str],
) -> tuple[Product | None, list[tuple[str, str]]]:
    """The product a row describes (a modified copy of ``existing``, or a new one), fully
    validated, or the row's errors as (column, message)."""
    product = copy.copy(existing) if existing is not None else Product(exhibitor=exhibitor)
    errors: list[tuple[str, str]] = []
    failed: set[str] = set()
    for column in columns:
        try:
            value = _convert(column, cells.get(column, ""), sections, categories)
        except ValidationError as error:
            errors.extend((column, message) for message in error.messages)
            failed.add(column)
            continue
        setattr(product, _FIELD_OF_COLUMN[column], value)
    exclude = [*_FULL_CLEAN_EXCLUDE, *failed]
    try:
        product.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors.extend(_errors_of(error))
    # Deduplicate (a message can come from a field and from clean()).
    unique_errors = list(dict.fromkeys(errors))
    return (None, unique_errors) if unique_errors else (product, [])


def changed_fields(existing: Product, candidate: Product, columns: list[str]) -> list[str]:
    changed = []
    for column in columns:
        name = _FIELD_OF_COLUMN[column]
        attname = Product._meta.get_field(name).attname
        if getattr(existing, attname) != getattr(candidate, attname):
            changed.append(name)
    return changed
