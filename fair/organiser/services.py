"""Organisers' writes to the fair core: editions, the category tree, halls. Each decision
is saved together with its audit entry."""

from __future__ import annotations

from django.db import transaction
from django.forms import ModelForm
from django.utils.translation import gettext as _

from fair.audit import audit_record
from fair.exceptions import Forbidden
from fair.models import Category, FairEdition, Hall, User
from fair.selectors import fair_edition_cache_clear


def _require_organiser(actor: User) -> None:
    if not actor.is_authenticated or not actor.is_organiser:
        raise Forbidden(_("Only organisers can do this."))


def _changed(form: ModelForm) -> dict[str, str]:
    return {name: str(form.cleaned_data.get(name)) for name in form.changed_data}


@transaction.atomic
def edition_save(*, actor: User, form: ModelForm) -> FairEdition:
    _require_organiser(actor)
    created = form.instance.pk is None
    edition = form.save()
    audit_record(
        actor=actor,
        action="edition.create" if created else "edition.update",
        target=edition,
        data=_changed(form),
    )
    transaction.on_commit(fair_edition_cache_clear)
    return edition


@transaction.atomic
def category_save(*, actor: User, form: ModelForm, names: dict[str, str]) -> Category:
    _require_organiser(actor)
    created = form.instance.pk is None
    category = form.save(commit=False)
    changed = _changed(form)
    if (category.names or {}) != names:
        changed["names"] = str(names)
    category.names = names
    category.save()
    audit_record(
        actor=actor,
        action="category.create" if created else "category.update",
        target=category,
        data=changed,
    )
    return category


@transaction.atomic
def hall_save(*, actor: User, form: ModelForm) -> Hall:
    _require_organiser(actor)
    created = form.instance.pk is None
    hall = form.save()
    audit_record(
        actor=actor,
        action="hall.create" if created else "hall.update",
        target=hall,
        data=_changed(form),
    )
    return hall


@transaction.atomic
def hall_delete(*, actor: User, hall: Hall) -> None:
    _require_organiser(actor)
    audit_record(actor=actor, action="hall.delete", target=hall)
    hall.delete()
