"""Real `atelier` processes for fault tests, and a TCP proxy that can cut a dependency."""

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class AtelierProcess:
    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process, self.log = process, log

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        # A child already reaped by asyncio's watcher, its return code not yet set: gone.
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    async def terminate(self, within: float = 30.0) -> int:
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            self.kill()
            await self.process.wait()
            raise AssertionError(f"did not stop on SIGTERM:\n{self.output()[-3000:]}") from None


@contextlib.asynccontextmanager
async def atelier(
    *args: str, env: Mapping[str, str], log: Path
) -> AsyncIterator[AtelierProcess]:
    """`atelier <args>` as a subprocess (this interpreter), killed at the end if alive."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    environment.update({"AWS_EC2_METADATA_DISABLED": "true", "PYTHONUNBUFFERED": "1", **env})
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "entrypoints.cli.main", *args, cwd=ROOT, env=environment,
            stdout=out, stderr=asyncio.subprocess.STDOUT)
    running = AtelierProcess(process, log)
    try:
        yield running
    finally:
        running.kill()
        await process.wait()


class TcpProxy:
    """Forwards a loopback port to `target`; `cut()` drops every connection and refuses
    new ones until `restore()`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port or self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def restore(self) -> None:
        await self.start(self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        except asyncio.CancelledError:
            pass
        finally:
            for w in (writer, upstream_writer):
                w.close()
            self._pipes.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.write_eof()
