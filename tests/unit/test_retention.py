"""RunRetention on the in-memory adapter: batch by batch until a short batch, and only
the rows past their rule."""

from datetime import timedelta

from adapters.memory.database import InMemoryDatabase, OutboxRecord
from adapters.memory.retention import InMemoryRetentionStore
from application.maintenance.retention import RunRetention
from application.ports.images import OutboxMessage
from domain.shared.clock import utcnow
from domain.users.lockout import LoginAttempts


async def test_batches_until_done_and_keeps_what_a_rule_reads() -> None:
    now = utcnow()
    old = now - timedelta(days=2)
    db = InMemoryDatabase()
    for n in range(5):
        db.tables.outbox[f"old-{n}"] = OutboxRecord(
            OutboxMessage(f"old-{n}", "t", {}, old), published_at=old)
    db.tables.outbox["pending"] = OutboxRecord(OutboxMessage("pending", "t", {}, old))
    db.tables.login_attempts[("a@example.com", "*")] = LoginAttempts(
        "a@example.com", 9, now + timedelta(minutes=5))
    db.tables.login_attempts[("b@example.com", "*")] = LoginAttempts("b@example.com", 9, old)
    # Below the threshold: kept while recent, forgotten once old.
    db.tables.login_attempts[("c@example.com", "*")] = LoginAttempts(
        "c@example.com", 2, None, last_failed_at=now - timedelta(hours=1))
    db.tables.login_attempts[("d@example.com", "*")] = LoginAttempts(
        "d@example.com", 4, None, last_failed_at=old)
    batches: list[tuple[str, int]] = []

    deleted = await RunRetention(InMemoryRetentionStore(db), lambda: now, batch=2)(
        lambda table, count: batches.append((table, count)))

    assert deleted["outbox"] == 5 and deleted["login_attempts"] == 2
    assert batches[:3] == [("outbox", 2), ("outbox", 4), ("outbox", 5)]
    assert set(db.tables.outbox) == {"pending"}
    assert set(db.tables.login_attempts) == {("a@example.com", "*"), ("c@example.com", "*")}
