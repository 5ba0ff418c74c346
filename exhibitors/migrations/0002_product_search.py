"""Catalogue search on PostgreSQL (hand-written; a no-op on SQLite, which the embedded demo
uses with a plain ``icontains`` fallback).

* ``exhibitors_product_vector(...)``: the weighted document, in one place, used by the
  trigger and by ``seed_scale``'s bulk load: name (A) > section and category English names
  and keywords (B) > description (C). The ``simple`` configuration (no stemming, no stop
  words) keeps product names in any language and model numbers matchable, and keeps the
  lexemes real words, which the typo-correcting word list needs.
* A ``BEFORE INSERT OR UPDATE OF name, keywords, description, category_id`` trigger keeps
  ``search_vector`` current and adds new lexemes to the word list
  (``exhibitors_searchword``, frequencies refreshed by ``exhibitors.search.search_words_refresh``).
* Indexes: GIN on the vector, pg_trgm GIN on ``UPPER(name)`` and ``UPPER(display_name)``
  (what Django's ``icontains`` emits), pg_trgm GiST on the word list for nearest-word
  lookups, partial b-trees on published products for the newest / price sorts and
  category browsing."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """
    CREATE TABLE IF NOT EXISTS exhibitors_searchword (
        word text PRIMARY KEY,
        ndoc integer NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX IF NOT EXISTS exhibitors_searchword_trgm "
    "ON exhibitors_searchword USING gist (word gist_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS exhibitors_searchword_prefix "
    "ON exhibitors_searchword (word text_pattern_ops, ndoc)",
    """
    CREATE OR REPLACE FUNCTION exhibitors_product_vector(
        p_name text, p_keywords text, p_description text, p_category_id bigint
    ) RETURNS tsvector LANGUAGE sql STABLE AS $$
        SELECT setweight(to_tsvector('simple', coalesce(p_name, '')), 'A')
            || setweight(to_tsvector('simple',
                   coalesce((SELECT c.name || ' ' || coalesce(pc.name, '')
                               FROM fair_category c
                               LEFT JOIN fair_category pc ON pc.id = c.parent_id
                              WHERE c.id = p_category_id), '')
                   || ' ' || coalesce(p_keywords, '')), 'B')
            || setweight(to_tsvector('simple', coalesce(p_description, '')), 'C')
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION exhibitors_product_search_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := exhibitors_product_vector(
            NEW.name, NEW.keywords, NEW.description, NEW.category_id);
        -- New words become correctable at once, with ndoc 0 ("not yet seen in a public
        -- product": never offered as a completion until search_words_refresh counts it).
        -- Lexemes come out of a tsvector sorted, so concurrent writers take the word rows in
        -- the same order (no deadlock).
        INSERT INTO exhibitors_searchword (word, ndoc)
            SELECT lexeme, 0 FROM unnest(NEW.search_vector)
             WHERE length(lexeme) BETWEEN 2 AND 40
            ON CONFLICT (word) DO NOTHING;
        RETURN NEW;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS exhibitors_product_search ON exhibitors_product",
    """
    CREATE TRIGGER exhibitors_product_search
    BEFORE INSERT OR UPDATE OF name, keywords, description, category_id
    ON exhibitors_product
    FOR EACH ROW EXECUTE FUNCTION exhibitors_product_search_trigger()
    """,
    # Backfill what exists (fires the trigger).
    "UPDATE exhibitors_product SET name = name",
    "CREATE INDEX IF NOT EXISTS exhibitors_product_search_gin "
    "ON exhibitors_product USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS exhibitors_product_name_trgm "
    "ON exhibitors_product USING gin (upper(name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS exhibitors_exhibitor_name_trgm "
    "ON exhibitors_exhibitor USING gin (upper(display_name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS exhibitors_product_pub_created "
    "ON exhibitors_product (created_at DESC, id DESC) WHERE is_published",
    "CREATE INDEX IF NOT EXISTS exhibitors_product_pub_price "
    "ON exhibitors_product (price_min, id) WHERE is_published",
    "CREATE INDEX IF NOT EXISTS exhibitors_product_pub_price_desc "
    "ON exhibitors_product (price_min DESC NULLS LAST, id DESC) WHERE is_published",
    "CREATE INDEX IF NOT EXISTS exhibitors_product_pub_category_created "
    "ON exhibitors_product (category_id, created_at DESC) WHERE is_published",
    "CREATE INDEX IF NOT EXISTS exhibitors_exhibitor_not_approved "
    "ON exhibitors_exhibitor (id) WHERE status <> 'approved'",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS exhibitors_product_search ON exhibitors_product",
    "DROP FUNCTION IF EXISTS exhibitors_product_search_trigger()",
    "DROP FUNCTION IF EXISTS exhibitors_product_vector(text, text, text, bigint)",
    "DROP INDEX IF EXISTS exhibitors_product_search_gin",
    "DROP INDEX IF EXISTS exhibitors_product_name_trgm",
    "DROP INDEX IF EXISTS exhibitors_exhibitor_name_trgm",
    "DROP INDEX IF EXISTS exhibitors_product_pub_created",
    "DROP INDEX IF EXISTS exhibitors_product_pub_price",
    "DROP INDEX IF EXISTS exhibitors_product_pub_price_desc",
    "DROP INDEX IF EXISTS exhibitors_product_pub_category_created",
    "DROP INDEX IF EXISTS exhibitors_exhibitor_not_approved",
    "DROP TABLE IF EXISTS exhibitors_searchword",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("exhibitors", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
