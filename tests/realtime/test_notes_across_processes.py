"""Private notes across real daphne processes sharing one PostgreSQL and one Redis: a note written
on process A reaches the room on process B, and the operator it mentions — connected only to B —
is told on their socket there (the test_across_processes cluster: two processes, token clients).
"""

import httpx
import pytest

from tests.realtime import test_across_processes as across
from tests.realtime.test_across_processes import (
    WAIT,
    Cluster,
    Operator,
    OperatorSocket,
    new_conversation,
    open_socket,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# The cross-process fixtures: two daphne processes (a cluster of this module's own), their
# operators, an HTTP client, and the sockets a test opens.
cluster = across.cluster
operators = across.operators
http = across.http
sockets = across.sockets


async def test_a_note_written_on_a_mentions_an_operator_connected_to_b(
    cluster: Cluster, operators: list[Operator], http: httpx.AsyncClient, sockets: list[OperatorSocket]
) -> None:
    a, b = cluster.servers[:2]
    writer_op, named_op, bystander_op = operators[:3]
    writer = await open_socket(sockets, a.ws_url, writer_op)
    named = await open_socket(sockets, b.ws_url, named_op)
    bystander = await open_socket(sockets, b.ws_url, bystander_op)
    _, conversation_id = await new_conversation(http, a.url, writer, "ขอคุยกับเจ้าหน้าที่ค่ะ")
    await bystander.send("join_room", {"conversation_id": conversation_id}, request_id="join")
    await bystander.wait_for("conversation_update", lambda f: f.get("request_id") == "join", timeout=WAIT)

    text = f"@{named_op.username} ลูกค้าคนนี้ขอใบกำกับภาษี"
    await writer.send("add_note", {"conversation_id": conversation_id, "text": text}, request_id="n1")

    mention = await named.wait_for(
        "note_mention", lambda f: f["payload"]["conversation_id"] == conversation_id, timeout=WAIT
    )
    assert mention["payload"]["note"]["text"] == text
    assert mention["payload"]["note"]["author"]["id"] == writer_op.id
    assert [m["id"] for m in mention["payload"]["note"]["mentions"]] == [named_op.id]
    # The room on B sees the note; the bystander was not mentioned.
    added = await bystander.wait_for("note_added", timeout=WAIT)
    assert added["payload"]["note"]["text"] == text
    assert not [f for f in bystander.frames if f["type"] == "note_mention"]
    assert not [f for f in writer.frames if f["type"] == "error"]
