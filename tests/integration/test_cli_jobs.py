"""`atelier jobs list --failed` and `atelier jobs redrive` on the embedded default, run as an
operator runs them; a redriven job is drawn by `atelier worker`. Long work shows a progress
line on a terminal and nothing when stderr is a pipe."""

import os
import pty
import select
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from application.images.fail_dead_job import FailDeadJob
from domain.images.model import ImageJob, ImageStatus
from domain.images.options import ImageQuality, ImageRequest, ImageSize
from domain.users.model import User
from entrypoints.wiring.di import ResolvedProviders
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.lifespan import running
from entrypoints.wiring.settings import Settings
from tests.support.cli import ATELIER, clean_environment, run

T0 = datetime.now(UTC)
MAX_RECEIVES = 2


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    return {**clean_environment(data_dir), "ATELIER_JOB_MAX_RECEIVES": str(MAX_RECEIVES)}


async def on_the_data_dir(data_dir: Path, work: Any) -> Any:
    settings = Settings(data_dir=data_dir, job_max_receives=MAX_RECEIVES)
    infrastructure = Infrastructure(settings=settings)
    async with running(infrastructure, ResolvedProviders(
            infrastructure, only=["uow_factory", "job_queue"])) as resolved:
        return await work(resolved.value("uow_factory"), resolved.value("job_queue"))


async def seed(data_dir: Path, env: dict[str, str]) -> None:
    """Three jobs: one dead-lettered the worker has not read yet, one it gave up on, and one
    whose prompt was refused (final)."""
    assert run("db", "upgrade", env=env).returncode == 0

    async def work(uow_factory: Any, queue: Any) -> None:
        async with uow_factory() as uow:
            await uow.users.add(User.new_guest("owner", T0))
            for image_id in ("img-dead-letter", "img-given-up", "img-refused"):
                await uow.images.add(ImageJob.request(image_id, "owner", ImageRequest(
                    "a red fox", ImageSize.SQUARE, ImageQuality.LOW), T0))
            refused = await uow.images.get_for_update("img-refused")
            refused.fail("the prompt was refused", T0)
            await uow.images.update(refused)
            await uow.commit()
        await queue.send("img-dead-letter")
        for _ in range(MAX_RECEIVES):
            for received in await queue.receive(1, 1):
                await queue.change_visibility(received.receipt, 0)
        assert await queue.receive(1, 0) == []
        assert await FailDeadJob(uow_factory, lambda: T0)("img-given-up")

    await on_the_data_dir(data_dir, work)


async def statuses(data_dir: Path) -> dict[str, ImageStatus]:
    async def work(uow_factory: Any, queue: Any) -> dict[str, ImageStatus]:
        async with uow_factory() as uow:
            return {image_id: (await uow.images.get(image_id)).status
                    for image_id in ("img-dead-letter", "img-given-up", "img-refused")}

    found: dict[str, ImageStatus] = await on_the_data_dir(data_dir, work)
    return found


def on_a_terminal(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Runs `atelier` with stderr on a pseudo-terminal, stdout on a pipe."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([ATELIER, *args], env=env, stdout=subprocess.PIPE,
                               stderr=follower, text=True)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    stdout = process.stdout.read() if process.stdout else ""
    return process.wait(30), stdout, seen.decode()


async def test_failed_jobs_are_listed_and_redriven_until_ready(
        data_dir: Path, env: dict[str, str]) -> None:
    await seed(data_dir, env)
    listed = run("jobs", "list", "--failed", env=env)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert set(lines) == {"img-given-up", "img-refused"}
    assert "redrivable" in lines["img-given-up"] and "final" in lines["img-refused"]
    assert "no queued jobs" not in run("jobs", "list", env=env).stderr  # the dead-lettered one

    dry = run("jobs", "redrive", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "would send 2 job(s)" in dry.stdout and "nothing changed" in dry.stdout
    assert dry.stderr == ""  # not a terminal: no progress line
    assert (await statuses(data_dir))["img-given-up"] is ImageStatus.FAILED

    code, stdout, terminal = on_a_terminal("jobs", "redrive", "--limit", "5", env=env)
    assert code == 0, terminal
    assert "sent 2 job(s)" in stdout
    assert "redrive: 2 jobs" in terminal
    assert await statuses(data_dir) == {"img-dead-letter": ImageStatus.QUEUED,
                                        "img-given-up": ImageStatus.QUEUED,
                                        "img-refused": ImageStatus.FAILED}

    worker = subprocess.Popen([ATELIER, "worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while (found := await statuses(data_dir))["img-given-up"] is not ImageStatus.READY:
            assert worker.poll() is None, worker.communicate()[1][-3000:]
            assert time.monotonic() < deadline, found
            time.sleep(0.3)
        assert found["img-dead-letter"] in (ImageStatus.READY, ImageStatus.GENERATING,
                                            ImageStatus.QUEUED)
    finally:
        worker.terminate()
        worker.wait(30)
    assert "no failed jobs" not in run("jobs", "list", "--failed", env=env).stderr  # refused


def test_jobs_redrive_refuses_a_limit_that_is_not_one(env: dict[str, str]) -> None:
    result = run("jobs", "redrive", "--limit", "0", env=env)
    assert result.returncode == 2 and "--limit" in result.stderr


async def test_purge_shows_progress_only_on_a_terminal(
        data_dir: Path, env: dict[str, str]) -> None:
    assert run("db", "upgrade", env=env).returncode == 0

    async def idle_guests(uow_factory: Any, queue: Any) -> None:
        async with uow_factory() as uow:
            for n in range(6):
                await uow.users.add(User.new_guest(f"idle-{n}", T0 - timedelta(days=3650)))
            await uow.commit()

    await on_the_data_dir(data_dir, idle_guests)
    code, stdout, terminal = on_a_terminal("guests", "purge", env=env)
    assert code == 0 and "purged 6" in stdout
    assert "purge: 6 guests" in terminal and terminal.endswith("\n")
    await on_the_data_dir(data_dir, idle_guests)
    piped = run("guests", "purge", env=env)
    assert "purged 6" in piped.stdout and piped.stderr == ""
