"""The inbound path's statements, with their SQL built once instead of once per event.

Django compiles a statement's SQL on every call. For a customer's message that was about 2.5 ms
of CPU — more than everything else the webhook does together (bench/webhook.py) — for the same
three statements every time: store the webhook event, find the open conversation, store the
message. Here their SQL is built once per database connection vendor, still from the models'
metadata with the backend's own quoting, value adaptation (`get_db_prep_save`) and converters
(`from_db_value`), so it follows schema changes and runs on PostgreSQL and SQLite alike (both
have `RETURNING` and `ON CONFLICT … DO NOTHING`). Behaviour is the ORM's: tests pin that the
instances built here equal the ORM's own.

On PostgreSQL the common case — a message in an open conversation — is all of it in a single
statement (`append_to_open_conversation`), which needs no transaction around it.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Field, Model

if TYPE_CHECKING:  # imported where used at run time, as before
    from accounts.models import User
    from livechat.models import Contact, Conversation, Message, WebhookEvent

Converter = Callable[[Any, Any, Any], Any]


def _column(field: Field) -> str:
    """A concrete field's column (django-stubs types it optional: it is set with the name)."""
    assert field.column is not None, field
    return field.column


def insert(instance: Model, *, unless_exists: str | None = None, using: str = "default") -> bool:
    """INSERT the new `instance` like `save(force_insert=True)`, and set its (database-assigned)
    primary key. No signals are sent: the models inserted here have no receivers.

    With `unless_exists` (a unique column), a row that already has the same value is left
    alone and nothing is inserted — also when a concurrent transaction is inserting it: the
    database makes this statement wait for that one. Returns whether the row was inserted.
    """
    connection = connections[using]
    model = type(instance)
    fields = _insert_fields(model)
    sql = _insert_sql(model, using, unless_exists)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = using
    return True


@cache
def _insert_fields(model: type[Model]) -> tuple[Field, ...]:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


@cache
def _insert_sql(model: type[Model], using: str, unless_exists: str | None) -> str:
    qn = connections[using].ops.quote_name
    fields = _insert_fields(model)
    columns = ", ".join(qn(_column(f)) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    conflict = f" ON CONFLICT ({qn(unless_exists)}) DO NOTHING" if unless_exists else ""
    return (
        f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({values})"  # noqa: S608
        f"{conflict} RETURNING {qn(_column(model._meta.pk))}"
    )


class _Columns[M: Model]:
    """A model's columns in a SELECT, and how to turn them back into an instance."""

    def __init__(self, model: type[M], alias: str, using: str) -> None:
        connection = connections[using]
        self.model = model
        self.fields: Sequence[Field] = model._meta.concrete_fields
        self.attnames = [f.attname for f in self.fields]
        qn = connection.ops.quote_name
        self.sql = ", ".join(f"{alias}.{qn(_column(f))}" for f in self.fields)
        # The backend's converters depend on settings only (e.g. SQLite's text → aware datetime),
        # so those found on this thread's connection serve every thread.
        self.converters: list[tuple[int, Any, list[Converter]]] = []
        for index, field in enumerate(self.fields):
            column = field.get_col(alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                self.converters.append((index, column, found))

    def instance(self, row: Sequence[Any], start: int, using: str) -> M | None:
        values = list(row[start : start + len(self.fields)])
        if values[0] is None:  # the LEFT JOIN found nothing
            return None
        connection = connections[using]
        for index, column, converters in self.converters:
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        return self.model.from_db(using, self.attnames, values)


# A conversation's columns, its contact's and its operator's, in this order.
type _Parts = tuple[_Columns["Conversation"], _Columns["Contact"], _Columns["User"]]


def _with_contact_and_operator(alias: str, using: str) -> tuple[_Parts, str]:
    """The columns of a conversation (under `alias`), its contact's (`ct`) and its operator's
    (`u`), and the joins that bring the latter two: what `_conversation_from` reads back."""
    from livechat.models import Contact, Conversation

    qn = connections[using].ops.quote_name
    user_model = get_user_model()
    parts = (
        _Columns(Conversation, alias, using),
        _Columns(Contact, "ct", using),
        _Columns(user_model, "u", using),
    )
    joins = (
        f"INNER JOIN {qn(Contact._meta.db_table)} ct ON {alias}.{qn('contact_id')} = ct.{qn('id')} "
        f"LEFT OUTER JOIN {qn(user_model._meta.db_table)} u "
        f"ON {alias}.{qn('assigned_operator_id')} = u.{qn(_column(user_model._meta.pk))}"
    )
    return parts, joins


def _conversation_from(row: Sequence[Any], parts: _Parts, using: str) -> tuple["Conversation", int]:
    """The conversation, with `contact` and `assigned_operator`, that starts `row`; and the
    index of the row's first column after them."""
    conversation_cols, contact_cols, operator_cols = parts
    conversation = conversation_cols.instance(row, 0, using)
    start = len(conversation_cols.fields)
    contact = contact_cols.instance(row, start, using)
    # The FROM table and an INNER JOIN: only the operator's LEFT JOIN can come back empty.
    assert conversation is not None and contact is not None
    conversation.contact = contact
    start += len(contact_cols.fields)
    conversation.assigned_operator = operator_cols.instance(row, start, using)
    return conversation, start + len(operator_cols.fields)


@cache
def _open_conversation_select(using: str, status_count: int) -> tuple[str, _Parts]:
    from livechat.models import Conversation

    qn = connections[using].ops.quote_name
    parts, joins = _with_contact_and_operator("c", using)
    open_statuses = ", ".join(["%s"] * status_count)
    sql = (
        f"SELECT {', '.join(p.sql for p in parts)} "  # noqa: S608
        f"FROM {qn(Conversation._meta.db_table)} c {joins} "
        f"WHERE ct.{qn('line_user_id')} = %s AND c.{qn('status')} IN ({open_statuses}) "
        # At most one row can match (one_open_conversation_per_contact): no ORDER BY needed.
        "LIMIT 1"
    )
    return sql, parts


def find_conversation(
    line_user_id: str, statuses: Sequence[str], using: str = "default"
) -> "Conversation | None":
    """The contact's conversation in one of `statuses`, with `contact` and `assigned_operator`
    loaded, or None. The same as `Conversation.objects.select_related("contact",
    "assigned_operator").filter(contact__line_user_id=…, status__in=statuses).first()` — for
    statuses that at most one of a contact's conversations can be in.
    """
    connection = connections[using]
    sql, parts = _open_conversation_select(using, len(statuses))
    with connection.cursor() as cursor:
        cursor.execute(sql, [line_user_id, *statuses])
        row = cursor.fetchone()
    return None if row is None else _conversation_from(row, parts, using)[0]


def can_append_in_one_statement(using: str = "default") -> bool:
    """Whether `append_to_open_conversation` runs here: it needs data-modifying WITH clauses,
    which PostgreSQL has and SQLite does not."""
    return connections[using].vendor == "postgresql"


def append_to_open_conversation(
    event: "WebhookEvent",
    message: "Message",
    line_user_id: str,
    statuses: Sequence[str],
    at: datetime,
    using: str = "default",
    nudged_after: Sequence[tuple[str, datetime]] = (),
) -> "Conversation | None":
    """A customer's message in their open conversation, stored in one statement, atomically.

    If the contact with `line_user_id` has a conversation in one of `statuses` — or in the
    status of a (status, time) pair of `nudged_after` with `bot_nudged_at` after that time (the
    bot, having spoken lately, has nothing to say: livechat.conversations.bot.Quiet): lock it, store
    `event` (a WebhookEvent) unless its webhook_event_id is already stored, and only then take
    the conversation's next seq and store `message` with it. Returns that conversation (after
    the update, with `contact` and `assigned_operator`) and completes `message` (pk, seq,
    conversation). Returns None when nothing at all was written: no such conversation (also one
    closed while this statement waited for its lock) or the event was already stored. `at` is
    the conversation's new last_message_at.

    Why: this is the webhook's hot path. As BEGIN, INSERT event, SELECT conversation, UPDATE
    seq, INSERT message, COMMIT it was six round trips to PostgreSQL — each a wake-up of two
    processes and a chance to wait for a busy core; in autocommit it is one, and being one
    statement it needs no transaction of its own. The guarantees of the longer path hold: the
    row lock (FOR UPDATE, re-checked against the newest row version) keeps seq gap-free and
    keeps a message out of a conversation closed meanwhile, and a duplicate event takes no seq.
    """
    if not statuses and not nudged_after:
        return None
    connection = connections[using]
    sql, parts = _append_sql(using, len(statuses), len(nudged_after))
    event_fields, message_fields = _insert_fields(type(event)), _message_value_fields()
    at_field = parts[0].model._meta.get_field("last_message_at")
    nudged = [(status, at_field.get_db_prep_save(after, connection)) for status, after in nudged_after]
    params = [
        line_user_id,
        *statuses,
        *(value for pair in nudged for value in pair),
        *(f.get_db_prep_save(f.pre_save(event, True), connection) for f in event_fields),
        at_field.get_db_prep_save(at, connection),
        *(f.get_db_prep_save(f.pre_save(message, True), connection) for f in message_fields),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    conversation, message_id_index = _conversation_from(row, parts, using)
    message.pk = row[message_id_index]
    message.conversation = conversation
    message.seq = conversation.last_seq
    message._state.adding = False
    message._state.db = using
    return conversation


# The message's columns that come from the locked conversation row rather than from the instance.
_FROM_CONVERSATION = {"conversation_id": "id", "seq": "last_seq"}


@cache
def _message_value_fields() -> tuple[Field, ...]:
    from livechat.models import Message

    return tuple(f for f in _insert_fields(Message) if f.attname not in _FROM_CONVERSATION)


@cache
def _append_sql(using: str, status_count: int, nudged_count: int) -> tuple[str, _Parts]:
    from livechat.models import Contact, Conversation, Message, WebhookEvent

    connection = connections[using]
    qn = connection.ops.quote_name
    conversation_table, contact_table = qn(Conversation._meta.db_table), qn(Contact._meta.db_table)
    event_table, message_table = qn(WebhookEvent._meta.db_table), qn(Message._meta.db_table)
    pk = qn("id")

    def typed(field: Field) -> str:
        # INSERT … SELECT types its values from the select list, not from the target columns:
        # an untyped parameter would be text there, which PostgreSQL will not assign to jsonb.
        return f"CAST(%s AS {field.cast_db_type(connection)})"

    event_fields = _insert_fields(WebhookEvent)
    message_columns, message_values = [], []
    for field in _insert_fields(Message):
        message_columns.append(qn(_column(field)))
        source = _FROM_CONVERSATION.get(field.attname)
        message_values.append(f"up.{qn(source)}" if source else typed(field))
    conversation_columns = ", ".join(f"c.{qn(_column(f))}" for f in Conversation._meta.concrete_fields)
    parts, joins = _with_contact_and_operator("up", using)
    status, nudged_at = f"c.{qn('status')}", f"c.{qn('bot_nudged_at')}"
    quiet = ([f"{status} IN ({', '.join(['%s'] * status_count)})"] if status_count else []) + [
        f"({status} = %s AND {nudged_at} > %s)"
    ] * nudged_count
    sql = (
        # The open conversation, locked; FOR UPDATE skips it if a concurrent close committed
        # (or, re-checked on the newest row version, if the bot has something to say now).
        f"WITH conv AS (SELECT c.{pk} FROM {conversation_table} c "  # noqa: S608
        f"INNER JOIN {contact_table} ct ON c.{qn('contact_id')} = ct.{pk} "
        f"WHERE ct.{qn('line_user_id')} = %s AND ({' OR '.join(quiet)}) "
        "LIMIT 1 FOR UPDATE OF c), "
        # The event, only with a conversation to put its message in; nothing if a duplicate.
        f"ev AS (INSERT INTO {event_table} ({', '.join(qn(_column(f)) for f in event_fields)}) "
        f"SELECT {', '.join(typed(f) for f in event_fields)} FROM conv "
        f"ON CONFLICT ({qn('webhook_event_id')}) DO NOTHING RETURNING {pk}), "
        # The next seq, only for a stored event: a duplicate must not leave a gap.
        f"up AS (UPDATE {conversation_table} c SET {qn('last_seq')} = c.{qn('last_seq')} + 1, "
        f"{qn('last_message_at')} = {typed(Conversation._meta.get_field('last_message_at'))} "
        f"FROM conv WHERE c.{pk} = conv.{pk} AND EXISTS (SELECT 1 FROM ev) "
        f"RETURNING {conversation_columns}), "
        f"msg AS (INSERT INTO {message_table} ({', '.join(message_columns)}) "
        f"SELECT {', '.join(message_values)} FROM up RETURNING {pk}) "
        f"SELECT {', '.join(p.sql for p in parts)}, msg.{pk} FROM up CROSS JOIN msg {joins}"
    )
    return sql, parts
