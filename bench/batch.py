"""Benchmark of one large webhook body: `--events` first-contact text events (each from a LINE
user new to the app) in a single signed `POST /webhooks/line/`, as LINE may send after an outage.

Prints how long the body took to answer (LINE gives up after about 2 s and redelivers), then
waits until every event is stored and prints how long that took, and checks that each message is
stored exactly once.

    .venv/bin/python bench/batch.py [--events 1000]

Starts its own daphne (DEBUG=0, LINE played by the simulator in a second daphne) against a freshly
created benchmark database, like bench/webhook.py. Loopback only; every wait is bounded.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import server_env
from webhook import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    ROOT,
    SIMULATOR_SECRET,
    WEBHOOK_PATH,
    free_port,
    migrate,
    recreate_database,
    start_server,
    stop_server,
)

from livechat.simulator.events import new_user_id, sign, text_event, webhook_body

TARGET_ANSWER_SECONDS = 1.0  # well inside LINE's 2 s

COUNT_STORED = """
import sys
from livechat.models import Message
ids = sys.stdin.read().split()
print(Message.objects.filter(line_message_id__in=ids).count())
"""


def stored(env: dict[str, str], message_ids: list[str]) -> int:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", COUNT_STORED],
        cwd=ROOT,
        env=env,
        input="\n".join(message_ids),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="recreated")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()

    events = [text_event(new_user_id(), f"สวัสดีค่ะ #{n}") for n in range(args.events)]
    message_ids = [e["message"]["id"] for e in events]
    body = webhook_body(*events)
    port, line_port = free_port(), free_port()
    env = server_env(args.database_url, args.redis_url, line_port)
    recreate_database(args.database_url)
    migrate(env)
    log_path = Path(tempfile.gettempdir()) / f"bench-batch-daphne-{os.getpid()}.log"
    print(f"One webhook body of {args.events} first-contact events ({len(body) / 1024:.0f} KiB)")
    with log_path.open("w") as log:
        line = start_server(line_port, env, log)
        server = start_server(port, env, log)
        try:
            started = time.monotonic()
            response = httpx.post(
                f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Line-Signature": sign(body, SIMULATOR_SECRET),
                },
                timeout=120,
            )
            answered = time.monotonic() - started
            print(f"  answered     {response.status_code} in {answered:.2f} s")
            count = 0
            deadline = started + 300
            while time.monotonic() < deadline:
                count = stored(env, message_ids)
                if count >= args.events:
                    break
                time.sleep(0.5)
            print(f"  all stored   {count}/{args.events} after {time.monotonic() - started:.1f} s")
        finally:
            stop_server(server)
            stop_server(line)
    met = response.status_code == 200 and answered <= TARGET_ANSWER_SECONDS and count == args.events
    print(
        f"\n[target] answered within {TARGET_ANSWER_SECONDS:g} s, every event stored once: "
        f"{'met' if met else 'MISSED'}  (daphne log: {log_path})"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
