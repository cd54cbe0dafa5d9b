"""The daily image quota under a burst of concurrent requests, each from its own address,
on SQLite and PostgreSQL: at quota - 1, exactly one more image is accepted."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from tests.support.crowd import at_once, crowd, statuses
from tests.support.images import FAST, request_image
from tests.support.phone import error_code, new_guest
from tests.support.stack import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
BURST = 20
QUOTA = 3


async def test_a_burst_at_quota_minus_one_gets_exactly_one_image(
    make_any_stack: StackFactory,
) -> None:
    async with make_any_stack(image_quota_guest_per_day=QUOTA, **FAST) as stack:
        tokens = (await new_guest(stack.client))["tokens"]
        for n in range(QUOTA - 1):
            assert (await request_image(stack.client, tokens, f"fox {n}")).status_code == 202
        async with crowd(stack.base_url, BURST) as clients:
            answers = await at_once(
                clients, lambda client, n: request_image(client, tokens, f"burst fox {n}"))
        assert statuses(answers) == [202] + [429] * (BURST - 1), statuses(answers)
        refused = {error_code(a) for a in answers if a.status_code == 429}
        assert refused == {"daily_quota_exceeded"}
