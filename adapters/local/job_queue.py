"""The embedded default's job queue: durable (an SQLite file under the data dir), with
SQS's semantics: visibility timeout, redelivery, receive counts, a dead-letter queue."""

import asyncio
import contextlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from application.ports.images import ReceivedJob

MAIN, DEAD = "main", "dead"
POLL_SECONDS = 0.1
T = TypeVar("T")
SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    image_id TEXT NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    sent_at REAL NOT NULL,
    traceparent TEXT
);
CREATE INDEX IF NOT EXISTS ix_messages_queue_visible_at ON messages (queue, visible_at);
CREATE UNIQUE INDEX IF NOT EXISTS ix_messages_receipt ON messages (receipt);
"""


class SqliteJobQueue:
    """Survives restarts; several processes on one machine may share the file."""

    def __init__(
        self, path: Path, visibility_timeout: float = 30.0, max_receives: int = 5
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._visibility, self._max_receives = visibility_timeout, max_receives
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(messages)")}
        if "traceparent" not in columns:  # a queue file from before traces
            self._db.execute("ALTER TABLE messages ADD COLUMN traceparent TEXT")
        self._arrived = asyncio.Event()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    async def send(self, image_id: str, traceparent: str | None = None) -> None:
        now = time.time()
        await self._run(
            "INSERT INTO messages (id, queue, image_id, visible_at, sent_at, traceparent)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (secrets.token_hex(16), MAIN, image_id, now, now, traceparent))
        self._arrived.set()

    async def receive(self, max_jobs: int, wait_seconds: float) -> list[ReceivedJob]:
        return await self._poll(MAIN, max_jobs, wait_seconds)

    async def receive_dead(self, max_jobs: int, wait_seconds: float) -> list[ReceivedJob]:
        return await self._poll(DEAD, max_jobs, wait_seconds)

    async def delete(self, receipt: str) -> None:
        await self._run("DELETE FROM messages WHERE receipt = ? AND queue = ?", (receipt, MAIN))

    async def delete_dead(self, receipt: str) -> None:
        await self._run("DELETE FROM messages WHERE receipt = ? AND queue = ?", (receipt, DEAD))

    async def change_visibility(self, receipt: str, seconds: float) -> None:
        await self._hide(MAIN, receipt, seconds)

    async def change_dead_visibility(self, receipt: str, seconds: float) -> None:
        await self._hide(DEAD, receipt, seconds)

    async def depth(self) -> tuple[int, int]:
        """(messages in the queue, messages in the dead-letter queue)."""

        def count() -> tuple[int, int]:
            rows = dict(self._db.execute(
                "SELECT queue, count(*) FROM messages GROUP BY queue").fetchall())
            return int(rows.get(MAIN, 0)), int(rows.get(DEAD, 0))

        return await asyncio.to_thread(self._locked, count)

    async def _hide(self, queue: str, receipt: str, seconds: float) -> None:
        await self._run("UPDATE messages SET visible_at = ? WHERE receipt = ? AND queue = ?",
                        (time.time() + seconds, receipt, queue))
        if seconds <= 0:
            self._arrived.set()

    async def _poll(self, queue: str, max_jobs: int, wait: float) -> list[ReceivedJob]:
        deadline = time.monotonic() + wait
        while True:
            self._arrived.clear()
            found = await asyncio.to_thread(self._locked, lambda: self._take(queue, max_jobs))
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            # Another process may send too: poll, but wake at once for this one's sends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, POLL_SECONDS)):  # not wait_for:
                    await self._arrived.wait()  # it can swallow a cancellation on 3.11

    def _take(self, queue: str, max_jobs: int) -> list[ReceivedJob]:
        now = time.time()
        taken: list[ReceivedJob] = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            rows = self._db.execute(
                "SELECT id, image_id, receive_count, traceparent FROM messages"
                " WHERE queue = ? AND visible_at <= ? ORDER BY visible_at LIMIT ?",
                (queue, now, max_jobs * 2 + 10)).fetchall()
            for message_id, image_id, count, traceparent in rows:
                if len(taken) >= max_jobs:
                    break
                if queue == MAIN and count >= self._max_receives:
                    # The redrive policy: past maxReceiveCount the message is dead.
                    self._db.execute(
                        "UPDATE messages SET queue = ?, receive_count = 0, receipt = NULL,"
                        " visible_at = ? WHERE id = ?", (DEAD, now, message_id))
                    continue
                receipt = f"{message_id}.{secrets.token_hex(8)}"
                self._db.execute(
                    "UPDATE messages SET receive_count = ?, receipt = ?, visible_at = ?"
                    " WHERE id = ?", (count + 1, receipt, now + self._visibility, message_id))
                taken.append(ReceivedJob(image_id, receipt, count + 1, traceparent))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return taken

    async def _run(self, sql: str, params: tuple[object, ...]) -> None:
        await asyncio.to_thread(self._locked, lambda: self._db.execute(sql, params))

    def _locked(self, work: Callable[[], T]) -> T:
        with self._lock:
            return work()
