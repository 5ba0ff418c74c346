"""The category tree loaded by the data migration fair/0002_category_tree."""

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.utils import translation

from fair.models import Category

TRANSLATED_LANGUAGES = ("zh-hans", "ar", "ru", "es", "fr")
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@pytest.mark.django_db
def test_category_tree_after_migrations_has_16_categories_and_50_sections():
    assert Category.objects.filter(kind=Category.Kind.CATEGORY).count() == 16
    assert Category.objects.filter(kind=Category.Kind.SECTION).count() == 50
    assert Category.objects.count() == 66


@pytest.mark.django_db
def test_category_tree_sections_have_category_parents():
    for section in Category.objects.filter(kind=Category.Kind.SECTION).select_related("parent"):
        assert section.parent is not None, section.slug
        assert section.parent.kind == Category.Kind.CATEGORY, section.slug


@pytest.mark.django_db
def test_category_tree_top_level_nodes_are_categories_with_sections():
    for category in Category.objects.filter(parent__isnull=True):
        assert category.kind == Category.Kind.CATEGORY, category.slug
        assert category.children.filter(kind=Category.Kind.SECTION).exists(), category.slug


@pytest.mark.django_db
def test_category_tree_every_node_has_all_translations():
    for node in Category.objects.all():
        assert node.name.strip(), node.slug
        for language in TRANSLATED_LANGUAGES:
            value = node.names.get(language)
            assert isinstance(value, str), (node.slug, language)
            assert value.strip(), (node.slug, language)


@pytest.mark.django_db
def test_category_tree_chinese_names_contain_chinese_characters():
    for node in Category.objects.all():
        assert re.search(r"[\u4e00-\u9fff]", node.names["zh-hans"]), node.slug


@pytest.mark.django_db
def test_category_display_name_in_chinese_returns_chinese_name():
    section = Category.objects.get(slug="household-appliances")
    with translation.override("zh-hans"):
        assert section.display_name == "家用电器"
        assert str(section) == "家用电器"


@pytest.mark.django_db
def test_category_display_name_in_english_returns_english_name():
    section = Category.objects.get(slug="household-appliances")
    with translation.override("en"):
        assert section.display_name == "Household Appliances"


@pytest.mark.django_db
def test_category_tree_slugs_are_unique_lowercase_ascii():
    slugs = list(Category.objects.values_list("slug", flat=True))
    assert len(slugs) == len(set(slugs))
    for slug in slugs:
        assert slug.isascii(), slug
        assert SLUG_PATTERN.fullmatch(slug), slug


@pytest.mark.django_db
def test_category_tree_positions_follow_list_order_without_gaps():
    categories = list(Category.objects.filter(parent__isnull=True).order_by("position"))
    assert [c.position for c in categories] == list(range(16))
    for category in categories:
        positions = sorted(category.children.values_list("position", flat=True))
        assert positions == list(range(len(positions))), category.slug


@pytest.mark.django_db
def test_category_tree_migration_run_twice_keeps_one_node_per_slug():
    migration = importlib.import_module("fair.migrations.0002_category_tree")
    Category.objects.filter(slug="household-appliances").update(name="Stale", names={})

    migration.load_tree(django_apps, None)

    assert Category.objects.count() == 66
    section = Category.objects.get(slug="household-appliances")
    assert section.name == "Household Appliances"
    assert section.names["zh-hans"] == "家用电器"


@pytest.mark.django_db
def test_category_tree_migration_reverse_removes_every_node():
    migration = importlib.import_module("fair.migrations.0002_category_tree")

    migration.unload_tree(django_apps, None)

    assert not Category.objects.exists()
