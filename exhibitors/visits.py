"""Booth and product views, counted cheaply.

The hot path (``visit_record``, called by the booth and product pages) only talks to Redis:
one round trip, no database write. ``visits_flush`` (a Celery beat task, every minute) moves
the counts into ``BoothVisitDay`` and ``BoothVisitor``.

Redis layout (all keys share the ``{visits}`` hash tag, so the claim script also works on a
cluster; ``P`` is ``settings.REDIS_KEY_PREFIX``)::

    P:{visits}:day:<YYYY-MM-DD>   hash  "<exhibitor_id>:b" / "<exhibitor_id>:p" -> views
    P:{visits}:days               set   days that may have a pending day hash
    P:{visits}:vcount             hash  "<exhibitor_id>:<user_id>" -> visits
    P:{visits}:vlast              hash  "<exhibitor_id>:<user_id>" -> last seen (epoch s)
    P:{visits}:vfirst             hash  "<exhibitor_id>:<user_id>" -> first seen (epoch s)
    P:{visits}:batches            set   claimed batches not yet written to the database
    P:{visits}:batch:<id>:...     the same hashes, renamed by the claim script

Flushing is *claim, write, delete*: one Lua script renames every pending hash into a new
batch (atomic: an increment lands either in the batch or in a fresh hash, never between a
read and a delete), the batch is added to the database in one transaction, then deleted. A
batch left behind by a crash is written by the next flush (at least once: a crash in the
instant between the database commit and the delete counts that batch twice). A lock keeps
two flushes from writing the same batch; running the flush twice writes nothing twice.

Without ``REDIS_URL`` (the embedded demo only) ``visit_record`` writes to the database
directly, one upsert per view: fine for a demo, never for the fair."""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import redis
from celery import shared_task
from django.conf import settings
from django.db import connection, transaction

from exhibitors.models import BoothVisitDay, BoothVisitor, Exhibitor

logger = logging.getLogger(__name__)

KINDS = {"booth": "b", "product": "p"}
FLUSH_LOCK_SECONDS = 300
# Days this far back may still receive a late increment (a request that computed the day
# just before midnight): their day stays in the index set while the flush claims them.
_KEEP_DAYS_INDEXED = 1

_pool: redis.ConnectionPool | None = None
_pool_url: str | None = None


def _redis() -> redis.Redis | None:
    """A client on the module-wide connection pool, or None in the embedded demo."""
    global _pool, _pool_url
    url = settings.REDIS_URL
    if not url:
        return None
    if _pool is None or _pool_url != url:
        _pool = redis.ConnectionPool.from_url(
            url, max_connections=getattr(settings, "VISITS_REDIS_MAX_CONNECTIONS", 50)
        )
        _pool_url = url
    return redis.Redis(connection_pool=_pool)


def _key(*parts: str) -> str:
    return ":".join((settings.REDIS_KEY_PREFIX, "{visits}", *parts))


def _now() -> datetime:
    return datetime.now(UTC)


# --- Hot path ------------------------------------------------------------------------------


def visit_record(*, exhibitor_id: int, user=None, kind: str = "booth") -> None:
    """Count one view of an exhibitor's booth (``kind="booth"``) or of one of its products
    (``kind="product"``); for a signed-in user, also remember them as a visitor.

    Redis only, one round trip, no database query. A Redis failure is logged and swallowed:
    a lost page view must never break the page."""
    suffix = KINDS[kind]
    now = _now()
    user_id = user.pk if user is not None and user.is_authenticated else None
    client = _redis()
    if client is None:
        _record_in_database(exhibitor_id=exhibitor_id, user_id=user_id, kind=kind, now=now)
        return
    day = now.date().isoformat()
    field = f"{exhibitor_id}:{suffix}"
    try:
        # MULTI: the claim script never runs between the increment and the index update.
        pipe = client.pipeline(transaction=True)
        pipe.hincrby(_key("day", day), field, 1)
        pipe.sadd(_key("days"), day)
        if user_id is not None:
            visitor = f"{exhibitor_id}:{user_id}"
            stamp = int(now.timestamp())
            pipe.hincrby(_key("vcount"), visitor, 1)
            pipe.hset(_key("vlast"), visitor, stamp)
            pipe.hsetnx(_key("vfirst"), visitor, stamp)
        pipe.execute()
    except redis.RedisError:
        logger.warning("visit not counted: Redis unavailable", exc_info=True)


def _record_in_database(*, exhibitor_id: int, user_id: int | None, kind: str, now) -> None:
    """Embedded demo only (no Redis): the same upserts the flush does, one view at a time."""
    suffix = KINDS[kind]
    visitors = {}
    if user_id is not None:
        stamp = int(now.timestamp())
        visitors[(exhibitor_id, user_id)] = (1, stamp, stamp)
    _write(days={(now.date(), exhibitor_id): {suffix: 1}}, visitors=visitors)


# --- Flush ---------------------------------------------------------------------------------

# KEYS[1] days index, KEYS[2] batches set, KEYS[3..5] vcount/vlast/vfirst.
# ARGV[1] day-key prefix, ARGV[2] batch-key prefix, ARGV[3] batch id,
# ARGV[4] first day (ISO) that stays indexed.
_CLAIM_SCRIPT = """
local claimed = 0
local days = redis.call('SMEMBERS', KEYS[1])
for _, day in ipairs(days) do
  local source = ARGV[1] .. day
  if redis.call('EXISTS', source) == 1 then
    redis.call('RENAME', source, ARGV[2] .. 'day:' .. day)
    claimed = claimed + 1
  end
  if day < ARGV[4] then
    redis.call('SREM', KEYS[1], day)
  end
end
local names = {'vcount', 'vlast', 'vfirst'}
for i = 3, 5 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], ARGV[2] .. names[i - 2])
    claimed = claimed + 1
  end
end
if claimed > 0 then
  redis.call('SADD', KEYS[2], ARGV[3])
  if #days > 0 then redis.call('SADD', ARGV[2] .. 'days', unpack(days)) end
end
return claimed
"""

_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _batch_prefix(batch_id: str) -> str:
    return _key("batch", batch_id, "")


def _claim(client: redis.Redis) -> str | None:
    """Atomically move every pending counter into a new batch; its id, or None if there was
    nothing to move."""
    batch_id = secrets.token_hex(8)
    keep_from = (_now().date() - timedelta(days=_KEEP_DAYS_INDEXED)).isoformat()
    claimed = client.eval(
        _CLAIM_SCRIPT,
        5,
        _key("days"),
        _key("batches"),
        _key("vcount"),
        _key("vlast"),
        _key("vfirst"),
        _key("day", ""),
        _batch_prefix(batch_id),
        batch_id,
        keep_from,
    )
    return batch_id if claimed else None


def _batch_read(client: redis.Redis, batch_id: str) -> tuple[dict, dict, list[str]]:
    """The batch's counts as ``days`` {(day, exhibitor_id): {"b": n, "p": n}} and
    ``visitors`` {(exhibitor_id, user_id): (visits, first, last)}, plus its keys."""
    prefix = _batch_prefix(batch_id)
    day_names = sorted(
        d.decode() if isinstance(d, bytes) else d for d in client.smembers(prefix + "days")
    )
    keys = [prefix + "days", prefix + "vcount", prefix + "vlast", prefix + "vfirst"]
    pipe = client.pipeline(transaction=False)
    for day in day_names:
        pipe.hgetall(prefix + "day:" + day)
        keys.append(prefix + "day:" + day)
    pipe.hgetall(prefix + "vcount")
    pipe.hgetall(prefix + "vlast")
    pipe.hgetall(prefix + "vfirst")
    results = pipe.execute()
    days: dict[tuple[date, int], dict[str, int]] = defaultdict(dict)
    for day, counts in zip(day_names, results[: len(day_names)], strict=True):
        for field, value in counts.items():
            exhibitor_id, _, suffix = field.decode().partition(":")
            days[(date.fromisoformat(day), int(exhibitor_id))][suffix] = int(value)
    vcount, vlast, vfirst = results[len(day_names) :]
    visitors: dict[tuple[int, int], tuple[int, int, int]] = {}
    for field, count in vcount.items():
        exhibitor_id, _, user_id = field.decode().partition(":")
        last = int(vlast.get(field, 0))
        first = int(vfirst.get(field, last))
        visitors[(int(exhibitor_id), int(user_id))] = (int(count), first, last)
    return dict(days), visitors, keys


def _batch_delete(client: redis.Redis, batch_id: str, keys: list[str]) -> None:
    pipe = client.pipeline(transaction=True)
    pipe.delete(*keys)
    pipe.srem(_key("batches"), batch_id)
    pipe.execute()


def visits_flush() -> dict[str, int]:
    """Move every pending view count from Redis into the database. Returns what it wrote
    (``{"batches": ..., "days": ..., "visitors": ...}``). Safe to run concurrently and
    repeatedly: a lock lets one flush write at a time, a written batch is deleted."""
    client = _redis()
    written = {"batches": 0, "days": 0, "visitors": 0}
    if client is None:
        return written  # the embedded demo writes on the request path
    token = secrets.token_hex(8)
    lock = _key("flush-lock")
    if not client.set(lock, token, nx=True, ex=FLUSH_LOCK_SECONDS):
        return written
    try:
        _claim(client)
        # Older batches first: one a crashed flush left behind is written now.
        for raw in sorted(client.smembers(_key("batches"))):
            batch_id = raw.decode()
            days, visitors, keys = _batch_read(client, batch_id)
            _write(days=days, visitors=visitors)
            _batch_delete(client, batch_id, keys)
            written["batches"] += 1
            written["days"] += len(days)
            written["visitors"] += len(visitors)
    finally:
        client.eval(_RELEASE_SCRIPT, 1, lock, token)
    return written


@shared_task(name="exhibitors.visits_flush")
def visits_flush_task() -> dict[str, int]:
    """Celery beat, every minute: see ``visits_flush``."""
    return visits_flush()


# --- Database upserts ------------------------------------------------------------------------


def _write(*, days: dict, visitors: dict) -> None:
    """Add the counts to the tables in one transaction (``INSERT .. ON CONFLICT DO UPDATE``
    adds to the stored numbers, so concurrent writers never lose one another's counts).
    Counts of exhibitors or users deleted since are dropped."""
    if not days and not visitors:
        return
    exhibitor_ids = {e for _, e in days} | {e for e, _ in visitors}
    user_model = BoothVisitor._meta.get_field("user").related_model
    with transaction.atomic():
        existing = set(Exhibitor.objects.filter(pk__in=exhibitor_ids).values_list("pk", flat=True))
        day_rows = [
            (exhibitor_id, day, counts.get("b", 0), counts.get("p", 0))
            for (day, exhibitor_id), counts in sorted(days.items())
            if exhibitor_id in existing
        ]
        user_ids = {u for e, u in visitors if e in existing}
        users = set(user_model.objects.filter(pk__in=user_ids).values_list("pk", flat=True))
        visitor_rows = [
            (
                exhibitor_id,
                user_id,
                datetime.fromtimestamp(first, UTC),
                datetime.fromtimestamp(last, UTC),
                count,
            )
            for (exhibitor_id, user_id), (count, first, last) in sorted(visitors.items())
            if exhibitor_id in existing and user_id in users
        ]
        greatest, least = (
            ("GREATEST", "LEAST") if connection.vendor == "postgresql" else ("MAX", "MIN")
        )
        day_table = BoothVisitDay._meta.db_table
        visitor_table = BoothVisitor._meta.db_table
        with connection.cursor() as cursor:
            _upsert(
                cursor,
                f"INSERT INTO {day_table} (exhibitor_id, day, booth_views, product_views) VALUES",
                "ON CONFLICT (exhibitor_id, day) DO UPDATE SET "
                f"booth_views = {day_table}.booth_views + EXCLUDED.booth_views, "
                f"product_views = {day_table}.product_views + EXCLUDED.product_views",
                day_rows,
            )
            _upsert(
                cursor,
                f"INSERT INTO {visitor_table} "
                "(exhibitor_id, user_id, first_seen, last_seen, visits) VALUES",
                "ON CONFLICT (exhibitor_id, user_id) DO UPDATE SET "
                f"visits = {visitor_table}.visits + EXCLUDED.visits, "
                f"first_seen = {least}({visitor_table}.first_seen, EXCLUDED.first_seen), "
                f"last_seen = {greatest}({visitor_table}.last_seen, EXCLUDED.last_seen)",
                visitor_rows,
            )


_UPSERT_CHUNK = 500


def _upsert(cursor, insert: str, conflict: str, rows: list[tuple]) -> None:
    """Multi-row ``INSERT .. VALUES (..), (..) ON CONFLICT ..`` in chunks: one statement per
    500 rows rather than one per row. Only placeholders carry values; the SQL text is built
    from model table names."""
    for start in range(0, len(rows), _UPSERT_CHUNK):
        chunk = rows[start : start + _UPSERT_CHUNK]
        row_sql = "(" + ", ".join(["%s"] * len(chunk[0])) + ")"
        sql = f"{insert} {', '.join([row_sql] * len(chunk))} {conflict}"
        cursor.execute(sql, [value for row in chunk for value in row])


# --- Reads for the exhibitor's visits page ---------------------------------------------------


def visits_per_day(*, exhibitor_id: int, days: int = 14) -> list[tuple[date, int, int]]:
    """``(day, booth_views, product_views)`` for the last ``days`` UTC days, oldest first,
    zero for days without views. Flushed counts only (at most about a minute behind)."""
    today = _now().date()
    start = today - timedelta(days=days - 1)
    stored = {
        row.day: (row.booth_views, row.product_views)
        for row in BoothVisitDay.objects.filter(exhibitor_id=exhibitor_id, day__gte=start)
    }
    return [
        (day, *stored.get(day, (0, 0))) for day in (start + timedelta(days=n) for n in range(days))
    ]
