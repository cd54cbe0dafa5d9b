"""SameTurnBatcher: what is asked for in one turn of the event loop goes as one call, and
every caller gets its own answer (or the error that concerns it)."""

import asyncio

import pytest

from adapters.batching import SameTurnBatcher


class Bad(Exception):
    """An error that belongs to one request only."""


class Recorder:
    """A `send` that answers each request doubled and remembers every batch it was given."""

    def __init__(self, fail_with: BaseException | None = None, bad: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_with, self.bad = fail_with, bad

    async def __call__(self, batch: list[int]) -> list[int]:
        self.batches.append(list(batch))
        await asyncio.sleep(0)  # a round trip
        if self.fail_with is not None:
            raise self.fail_with
        if self.bad is not None and self.bad in batch:
            raise Bad(f"request {self.bad}")
        return [request * 2 for request in batch]


async def test_requests_of_one_turn_go_as_one_call_and_each_gets_its_own_answer() -> None:
    send = Recorder()
    batcher = SameTurnBatcher(send, max_batch=64)
    answers = await asyncio.gather(*(batcher.submit(n) for n in range(20)))
    assert answers == [n * 2 for n in range(20)]
    assert send.batches == [list(range(20))]


async def test_a_lone_request_goes_at_once_and_later_turns_make_new_batches() -> None:
    send = Recorder()
    batcher = SameTurnBatcher(send, max_batch=64)
    assert await asyncio.wait_for(batcher.submit(1), timeout=1) == 2
    assert await batcher.submit(2) == 4
    assert send.batches == [[1], [2]]


async def test_a_batch_holds_at_most_max_batch_requests() -> None:
    send = Recorder()
    batcher = SameTurnBatcher(send, max_batch=4)
    answers = await asyncio.gather(*(batcher.submit(n) for n in range(10)))
    assert answers == [n * 2 for n in range(10)]
    assert send.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


async def test_an_error_of_the_call_reaches_every_caller_of_that_batch() -> None:
    batcher = SameTurnBatcher(Recorder(fail_with=ConnectionError("down")), max_batch=64)
    results = await asyncio.gather(*(batcher.submit(n) for n in range(5)),
                                   return_exceptions=True)
    assert all(isinstance(result, ConnectionError) for result in results)


async def test_a_split_on_error_fails_only_the_request_it_belongs_to() -> None:
    send = Recorder(bad=3)
    batcher = SameTurnBatcher(send, max_batch=64, split_on=(Bad,))
    results = await asyncio.gather(*(batcher.submit(n) for n in range(5)),
                                   return_exceptions=True)
    assert [r for r in results if not isinstance(r, Bad)] == [0, 2, 4, 8]
    assert isinstance(results[3], Bad)
    assert send.batches == [[0, 1, 2, 3, 4], [0], [1], [2], [3], [4]]


async def test_other_errors_are_not_split() -> None:
    send = Recorder(bad=3)
    batcher = SameTurnBatcher(send, max_batch=64)
    results = await asyncio.gather(*(batcher.submit(n) for n in range(5)),
                                   return_exceptions=True)
    assert all(isinstance(result, Bad) for result in results)
    assert send.batches == [[0, 1, 2, 3, 4]]


async def test_a_caller_that_went_away_does_not_disturb_the_others() -> None:
    send = Recorder()
    batcher = SameTurnBatcher(send, max_batch=64)
    leaving = asyncio.ensure_future(batcher.submit(1))
    staying = asyncio.ensure_future(batcher.submit(2))
    await asyncio.sleep(0)
    leaving.cancel()
    assert await asyncio.wait_for(staying, 1) == 4
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert await batcher.submit(3) == 6  # and the batcher goes on


async def test_a_wrong_number_of_answers_fails_the_callers_instead_of_hanging() -> None:
    async def short(batch: list[int]) -> list[int]:
        return batch[:-1]

    batcher = SameTurnBatcher(short, max_batch=64)
    results = await asyncio.wait_for(
        asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True), 1)
    assert all(isinstance(result, RuntimeError) for result in results)


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        SameTurnBatcher(Recorder(), max_batch=0)
