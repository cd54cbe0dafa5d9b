"""Requests made in the same turn of the event loop, sent together as one call."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Request = TypeVar("Request")
Answer = TypeVar("Answer")


@dataclass(frozen=True, slots=True)
class _Waiting(Generic[Request, Answer]):
    request: Request
    answer: "asyncio.Future[Answer]"


class SameTurnBatcher(Generic[Request, Answer]):
    """`submit` hands a request to `send` together with every other request submitted in
    the same turn of the event loop (at most `max_batch` per call), and answers each caller
    with its own answer. Nothing waits for a batch to fill: the first request of a turn
    schedules the send for the next turn, so a lone request goes at once.

    `send` answers a batch in order, one answer per request. An error it raises reaches
    every caller of that batch, except the `split_on` errors, which may belong to one
    request only: that batch is sent again one request at a time."""

    def __init__(
        self,
        send: Callable[[list[Request]], Awaitable[Sequence[Answer]]],
        max_batch: int,
        split_on: tuple[type[Exception], ...] = (),
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._send_batch, self._max_batch, self._split_on = send, max_batch, split_on
        self._waiting: list[_Waiting[Request, Answer]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def submit(self, request: Request) -> Answer:
        loop = asyncio.get_running_loop()
        waiting: _Waiting[Request, Answer] = _Waiting(request, loop.create_future())
        self._waiting.append(waiting)
        if len(self._waiting) == 1:
            loop.call_soon(self._send_waiting)
        return await waiting.answer

    def _send_waiting(self) -> None:
        while self._waiting:
            batch = self._waiting[:self._max_batch]
            self._waiting = self._waiting[self._max_batch:]
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._sending.add(task)  # a task nobody references may be collected mid-send
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[_Waiting[Request, Answer]]) -> None:
        try:
            answers = await self._send_batch([waiting.request for waiting in batch])
            if len(answers) != len(batch):
                raise RuntimeError(f"{len(answers)} answers for {len(batch)} requests")
        except self._split_on as error:
            if len(batch) == 1:
                _settle_all(batch, error)
                return
            for waiting in batch:
                await self._send([waiting])
            return
        except BaseException as error:  # handed to every caller, not lost
            _settle_all(batch, error)
            if not isinstance(error, Exception):
                raise
            return
        for waiting, answer in zip(batch, answers, strict=True):
            if not waiting.answer.done():  # else its caller went away
                waiting.answer.set_result(answer)


def _settle_all(batch: Sequence[_Waiting[Request, Answer]], error: BaseException) -> None:
    for waiting in batch:
        if waiting.answer.done():  # its caller went away (a client that hung up)
            continue
        if isinstance(error, asyncio.CancelledError):
            waiting.answer.cancel()
        else:
            waiting.answer.set_exception(error)
