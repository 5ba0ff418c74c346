"""Catalogue search without joins (hand-written, PostgreSQL only; a no-op on SQLite).

Search filters and facets used to join every matching product to its exhibitor (approved?
country? live?) and its section (top-level category). This migration copies those values
onto the product row, in columns the ORM model does not declare (``exhibitors.search``
reads them in raw SQL only, so ``makemigrations`` sees no change):

* ``search_public``: ``is_published`` and the exhibitor approved (the rule of
  ``Product.objects.public()``);
* ``search_country``, ``search_live``: the exhibitor's ``country`` and ``is_live``;
* ``search_top_category_id``: the parent of the product's section.

Database triggers keep them exact, so no service has to know about them:

* on products, ``BEFORE INSERT OR UPDATE OF is_published, exhibitor_id, category_id``
  reads the exhibitor (``FOR SHARE`` for a new row or a new exhibitor: an exhibitor status
  change running at the same time finishes first and the new row sees its result; an
  existing row is instead rewritten by that change's UPDATE, which waits for the row);
* on exhibitors, ``AFTER UPDATE OF status, country, is_live`` (only when one changed)
  rewrites that exhibitor's products;
* on categories, ``AFTER UPDATE OF parent_id`` rewrites that section's products.

Index: one GIN over the vector *and* the filter columns (``btree_gin``), partial on
``search_public`` and with ``fastupdate = off`` (no pending list to scan at query time): a
keyword with a country, category, live or new-launch filter is answered inside the index,
without reading rows that the filter then drops. The plain GIN of 0002 stays (the bench's
baseline and ad-hoc queries use it). Partial b-trees on public products serve the newest
and price sorts. A partial trigram index on the word list's words without digits keeps
typo correction fast when model numbers fill the list."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    """
    ALTER TABLE exhibitors_product
        ADD COLUMN IF NOT EXISTS search_public boolean NOT NULL DEFAULT false,
        ADD COLUMN IF NOT EXISTS search_country varchar(2) NOT NULL DEFAULT '',
        ADD COLUMN IF NOT EXISTS search_live boolean NOT NULL DEFAULT false,
        ADD COLUMN IF NOT EXISTS search_top_category_id bigint NOT NULL DEFAULT 0
    """,
    """
    CREATE OR REPLACE FUNCTION exhibitors_product_search_columns_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        ex record;
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.exhibitor_id IS DISTINCT FROM OLD.exhibitor_id THEN
            -- A status change running now must finish first: its UPDATE cannot see this
            -- new row of the exhibitor.
            SELECT status, country, is_live INTO ex
              FROM exhibitors_exhibitor WHERE id = NEW.exhibitor_id FOR SHARE;
        ELSE
            -- An existing row: a concurrent status change's UPDATE waits for this row and
            -- recomputes it (no lock here, which would invert the lock order and deadlock).
            SELECT status, country, is_live INTO ex
              FROM exhibitors_exhibitor WHERE id = NEW.exhibitor_id;
        END IF;
        NEW.search_public := NEW.is_published AND coalesce(ex.status = 'approved', false);
        NEW.search_country := coalesce(ex.country, '');
        NEW.search_live := coalesce(ex.is_live, false);
        NEW.search_top_category_id := coalesce(
            (SELECT parent_id FROM fair_category WHERE id = NEW.category_id), 0);
        RETURN NEW;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS exhibitors_product_search_columns ON exhibitors_product",
    """
    CREATE TRIGGER exhibitors_product_search_columns
    BEFORE INSERT OR UPDATE OF is_published, exhibitor_id, category_id
    ON exhibitors_product
    FOR EACH ROW EXECUTE FUNCTION exhibitors_product_search_columns_trigger()
    """,
    """
    CREATE OR REPLACE FUNCTION exhibitors_exhibitor_search_columns_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE exhibitors_product p
           SET search_public = p.is_published AND NEW.status = 'approved',
               search_country = NEW.country,
               search_live = NEW.is_live
         WHERE p.exhibitor_id = NEW.id
           AND (p.search_public, p.search_country, p.search_live) IS DISTINCT FROM
               (p.is_published AND NEW.status = 'approved', NEW.country, NEW.is_live);
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS exhibitors_exhibitor_search_columns ON exhibitors_exhibitor",
    """
    CREATE TRIGGER exhibitors_exhibitor_search_columns
    AFTER UPDATE OF status, country, is_live ON exhibitors_exhibitor
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.country IS DISTINCT FROM NEW.country
          OR OLD.is_live IS DISTINCT FROM NEW.is_live)
    EXECUTE FUNCTION exhibitors_exhibitor_search_columns_trigger()
    """,
    """
    CREATE OR REPLACE FUNCTION exhibitors_category_search_columns_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE exhibitors_product SET search_top_category_id = coalesce(NEW.parent_id, 0)
         WHERE category_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS exhibitors_category_search_columns ON fair_category",
    """
    CREATE TRIGGER exhibitors_category_search_columns
    AFTER UPDATE OF parent_id ON fair_category
    FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION exhibitors_category_search_columns_trigger()
    """,
    # Backfill what exists (the search-vector trigger does not fire: none of its columns).
    """
    UPDATE exhibitors_product p
       SET search_public = p.is_published AND e.status = 'approved',
           search_country = e.country,
           search_live = e.is_live,
           search_top_category_id = coalesce(c.parent_id, 0)
      FROM exhibitors_exhibitor e, fair_category c
     WHERE e.id = p.exhibitor_id AND c.id = p.category_id
    """,
    "CREATE INDEX IF NOT EXISTS exhibitors_product_public_search_gin ON exhibitors_product "
    "USING gin (search_vector, category_id, search_country, (search_live::int), "
    "(is_new_launch::int), certifications jsonb_path_ops) WITH (fastupdate = off) "
    "WHERE search_public",
    # Typo correction looks for the nearest word among words without digits only (it never
    # corrects to a model number, and a catalogue holds far more of those than words).
    "CREATE INDEX IF NOT EXISTS exhibitors_searchword_letters_trgm ON exhibitors_searchword "
    "USING gist (word gist_trgm_ops) WHERE word !~ '[0-9]'",
    "CREATE INDEX IF NOT EXISTS exhibitors_product_public_created "
    "ON exhibitors_product (created_at DESC, id DESC) WHERE search_public",
    "CREATE INDEX IF NOT EXISTS exhibitors_product_public_price "
    "ON exhibitors_product (price_min, id) WHERE search_public",
    "CREATE INDEX IF NOT EXISTS exhibitors_product_public_price_desc "
    "ON exhibitors_product (price_min DESC NULLS LAST, id DESC) WHERE search_public",
    "CREATE INDEX IF NOT EXISTS exhibitors_product_public_top_created "
    "ON exhibitors_product (search_top_category_id, created_at DESC, id DESC) "
    "WHERE search_public",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS exhibitors_category_search_columns ON fair_category",
    "DROP FUNCTION IF EXISTS exhibitors_category_search_columns_trigger()",
    "DROP TRIGGER IF EXISTS exhibitors_exhibitor_search_columns ON exhibitors_exhibitor",
    "DROP FUNCTION IF EXISTS exhibitors_exhibitor_search_columns_trigger()",
    "DROP TRIGGER IF EXISTS exhibitors_product_search_columns ON exhibitors_product",
    "DROP FUNCTION IF EXISTS exhibitors_product_search_columns_trigger()",
    "DROP INDEX IF EXISTS exhibitors_product_public_search_gin",
    "DROP INDEX IF EXISTS exhibitors_searchword_letters_trgm",
    "DROP INDEX IF EXISTS exhibitors_product_public_created",
    "DROP INDEX IF EXISTS exhibitors_product_public_price",
    "DROP INDEX IF EXISTS exhibitors_product_public_price_desc",
    "DROP INDEX IF EXISTS exhibitors_product_public_top_created",
    """
    ALTER TABLE exhibitors_product
        DROP COLUMN IF EXISTS search_public,
        DROP COLUMN IF EXISTS search_country,
        DROP COLUMN IF EXISTS search_live,
        DROP COLUMN IF EXISTS search_top_category_id
    """,
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
    dependencies = [("exhibitors", "0003_directory_indexes")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
