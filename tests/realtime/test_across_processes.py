"""The console socket across real daphne processes sharing one PostgreSQL and one Redis.

Two daphne processes (A and B) run against a database this module creates and drops itself;
clients are `websockets` connections that authenticate with API tokens, as non-browser clients
do. What one process does, sockets on the other must see: inbound messages, claims, presence —
and a process that dies (kill -9) must not leave its operators online.
"""

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from cluster import Cluster, Operator, OperatorSocket, create_operators, is_postgres, post_webhook

from livechat.simulator.events import new_user_id, text_event

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PRESENCE_TTL = 4  # seconds; each process sweeps every TTL/4
SWEEP_INTERVAL = PRESENCE_TTL / 4
PING_EVERY = 1.0  # well inside the TTL, so live sockets never expire
WAIT = 10.0  # the longest any single frame may take


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not is_postgres(database_url):
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… (the daphne processes share it)")
    if not redis_url:
        pytest.skip("needs Redis: set REDIS_URL=redis://… (the processes' channel layer and presence)")
    name = f"lc_mp_{os.getpid()}"
    with Cluster(
        database_url,
        name,
        redis_url,
        processes=2,
        PRESENCE_TTL_SECONDS=str(PRESENCE_TTL),
        DB_POOL_MAX_SIZE="5",  # a good neighbour on a shared PostgreSQL
    ) as c:
        yield c


@pytest.fixture(scope="module")
def operators(cluster: Cluster) -> list[Operator]:
    # High, per-run ids: never mistaken for the users of another database sharing this Redis.
    return create_operators(cluster.env, 12, first_id=1_000_000_000 + os.getpid() * 100)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=WAIT) as client:
        yield client


@pytest.fixture
async def sockets() -> AsyncIterator[list[OperatorSocket]]:
    """Every socket a test opens through `open_socket` is closed after it."""
    opened: list[OperatorSocket] = []
    yield opened
    await asyncio.gather(*(s.close() for s in opened))


async def open_socket(opened: list[OperatorSocket], url: str, operator: Operator) -> OperatorSocket:
    socket = await OperatorSocket.connect(url, operator, ping_every=PING_EVERY)
    opened.append(socket)
    return socket


def online_ids(frame: dict) -> set[int]:
    return {op["id"] for op in frame["payload"]["operators"]}


def of_conversation(conversation_id: int) -> Callable[[dict], bool]:
    return lambda f: f["payload"]["conversation"]["id"] == conversation_id


def answering(request_id: str) -> Callable[[dict], bool]:
    return lambda f: f.get("request_id") == request_id


def about(customer: str) -> Callable[[dict], bool]:
    """Frames about the conversation of this LINE user."""
    return lambda f: f["payload"]["conversation"]["contact"]["line_user_id"] == customer


async def new_conversation(
    http: httpx.AsyncClient, server_url: str, watcher: OperatorSocket, text: str
) -> tuple[str, int]:
    """A new customer writes `text`; returns (LINE user id, conversation id) as operators hear it."""
    customer = new_user_id()
    await post_webhook(http, server_url, text_event(customer, text))
    update = await watcher.wait_for("conversation_update", about(customer), timeout=WAIT)
    return customer, update["payload"]["conversation"]["id"]


async def test_inbound_webhook_on_a_reaches_socket_on_b(
    cluster: Cluster, operators: list[Operator], http: httpx.AsyncClient, sockets: list[OperatorSocket]
) -> None:
    a, b = cluster.servers[:2]
    on_b = await open_socket(sockets, b.ws_url, operators[0])
    customer, conversation_id = await new_conversation(http, a.url, on_b, "สวัสดีค่ะ first")
    await on_b.send("join_room", {"conversation_id": conversation_id}, request_id="join")
    joined = await on_b.wait_for("conversation_update", answering("join"))
    # The customer's message, and the bot's fallback to it.
    assert [m["direction"] for m in joined["payload"]["messages"]] == ["in", "out"]
    assert joined["payload"]["messages"][0]["text"] == "สวัสดีค่ะ first"

    await post_webhook(http, a.url, text_event(customer, "second, via A"))

    def is_second(frame: dict) -> bool:  # not news of the bot's fallback being delivered
        return any(m["text"] == "second, via A" for m in frame["payload"].get("messages") or [])

    message = (
        await on_b.wait_for(
            "new_message", lambda f: f["payload"]["message"]["text"] == "second, via A", timeout=WAIT
        )
    )["payload"]["message"]
    assert (message["conversation_id"], message["seq"], message["text"]) == (
        conversation_id,
        3,
        "second, via A",
    )
    # Every operator hears that the conversation changed (the room or not), with the message.
    update = await on_b.wait_for(
        "conversation_update", lambda f: about(customer)(f) and is_second(f), timeout=WAIT
    )
    assert [m["text"] for m in update["payload"]["messages"]] == ["second, via A"]
    assert update["payload"]["conversation"]["last_seq"] == 3


async def test_simultaneous_claims_on_a_and_b_have_one_winner(
    cluster: Cluster, operators: list[Operator], http: httpx.AsyncClient, sockets: list[OperatorSocket]
) -> None:
    a, b = cluster.servers[:2]
    first, second = operators[1], operators[2]
    on_a = await open_socket(sockets, a.ws_url, first)
    on_b = await open_socket(sockets, b.ws_url, second)
    for round_ in range(3):
        # "agent" asks for a human: the conversation joins the queue, ready to be claimed.
        _, conversation_id = await new_conversation(http, a.url, on_a, "agent")
        claimed = of_conversation(conversation_id)
        await on_b.wait_for("conversation_update", claimed)
        claim = {"conversation_id": conversation_id}
        rid = f"claim-{round_}"
        await asyncio.gather(
            on_a.send("claim_session", claim, request_id=rid),
            on_b.send("claim_session", claim, request_id=rid),
        )
        seen_a = await on_a.wait_for("session_claimed", claimed, timeout=WAIT)
        seen_b = await on_b.wait_for("session_claimed", claimed, timeout=WAIT)
        winner = seen_a["payload"]["operator"]["id"]
        assert seen_b["payload"]["operator"]["id"] == winner
        assert winner in (first.id, second.id)
        loser_socket = on_b if winner == first.id else on_a
        refused = await loser_socket.wait_for("error", answering(rid), timeout=WAIT)
        assert refused["payload"]["code"] == "already_claimed"
        await asyncio.sleep(0.3)  # a second session_claimed or error would have arrived by now
        for socket in (on_a, on_b):
            assert not [f for f in socket.frames if f["type"] == "session_claimed" and claimed(f)]
            assert not [f for f in socket.frames if f["type"] == "error" and answering(rid)(f)]
        detail = await http.get(
            f"{b.url}/api/v1/conversations/{conversation_id}",
            headers={"Authorization": f"Token {first.token}"},
        )
        assert detail.json()["status"] == "active"
        assert detail.json()["assigned_operator"]["id"] == winner


async def test_presence_agrees_on_both_processes(
    cluster: Cluster, operators: list[Operator], sockets: list[OperatorSocket]
) -> None:
    a, b = cluster.servers[:2]
    somchai, malee = operators[3], operators[4]
    await open_socket(sockets, a.ws_url, somchai)
    await open_socket(sockets, b.ws_url, malee)
    # A second tab of each on the other process: already online, so that process answers with
    # the presence it reads from Redis itself.
    somchai_on_b = await open_socket(sockets, b.ws_url, somchai)
    malee_on_a = await open_socket(sockets, a.ws_url, malee)

    both = {somchai.id, malee.id}
    seen_by_b = await somchai_on_b.wait_for("presence_update", lambda f: both <= online_ids(f))
    seen_by_a = await malee_on_a.wait_for("presence_update", lambda f: both <= online_ids(f))
    for seen in (seen_by_a, seen_by_b):
        ours = [op["id"] for op in seen["payload"]["operators"] if op["id"] in both]
        assert sorted(ours) == sorted(both)  # each operator once, however many tabs


async def test_a_killed_process_loses_its_operators_within_the_expiry(
    cluster: Cluster, operators: list[Operator], sockets: list[OperatorSocket]
) -> None:
    a, b = cluster.servers[:2]
    doomed_operator, watcher_operator = operators[5], operators[6]
    doomed = cluster.add_server("daphne-doomed")
    watcher = await open_socket(sockets, a.ws_url, watcher_operator)
    await open_socket(sockets, doomed.ws_url, doomed_operator)
    await watcher.wait_for("presence_update", lambda f: doomed_operator.id in online_ids(f), timeout=WAIT)

    watcher.frames.clear()  # only what is said after the crash counts
    doomed.crash()
    killed_at = time.monotonic()

    limit = PRESENCE_TTL + SWEEP_INTERVAL + 1.5  # the last ping can be up to PING_EVERY old
    await watcher.wait_for(
        "presence_update", lambda f: doomed_operator.id not in online_ids(f), timeout=limit
    )
    assert time.monotonic() - killed_at <= limit
    # B agrees: a socket opening there now is told the same.
    fresh = await open_socket(sockets, b.ws_url, operators[7])
    seen = await fresh.wait_for("presence_update", lambda f: operators[7].id in online_ids(f))
    assert doomed_operator.id not in online_ids(seen)
    assert watcher_operator.id in online_ids(seen)


async def test_reconnect_and_sync_returns_exactly_the_missed_messages(
    cluster: Cluster, operators: list[Operator], http: httpx.AsyncClient, sockets: list[OperatorSocket]
) -> None:
    a, b = cluster.servers[:2]
    operator = operators[8]
    first = await open_socket(sockets, b.ws_url, operator)
    customer, conversation_id = await new_conversation(http, a.url, first, "before the gap")
    await first.send("join_room", {"conversation_id": conversation_id}, request_id="join")
    joined = await first.wait_for("conversation_update", answering("join"))
    last_seen = joined["payload"]["messages"][-1]["seq"]
    await first.close()

    missed = [f"missed {n}" for n in range(1, 11)]
    for text in missed:
        await post_webhook(http, a.url, text_event(customer, text))

    again = await open_socket(sockets, b.ws_url, operator)
    await again.send("sync", {"conversation_id": conversation_id, "after_seq": last_seen}, request_id="sync")
    synced = await again.wait_for("conversation_update", answering("sync"))
    messages = synced["payload"]["messages"]
    assert [(m["seq"], m["text"]) for m in messages] == [
        (last_seen + n, text) for n, text in enumerate(missed, start=1)
    ]
    assert synced["payload"]["has_more"] is False
    # The REST fallback returns the same.
    page = await http.get(
        f"{a.url}/api/v1/conversations/{conversation_id}/messages",
        params={"after_seq": last_seen},
        headers={"Authorization": f"Token {operator.token}"},
    )
    assert [m["seq"] for m in page.json()["messages"]] == [m["seq"] for m in messages]
