"""The image job's state machine, the request rules and the daily quota."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.images.errors import (
    DailyQuotaExceeded,
    InvalidIdempotencyKey,
    InvalidImageQuality,
    InvalidImageSize,
    InvalidImageTransition,
    InvalidPrompt,
)
from domain.images.model import ImageJob, ImageStatus, object_key_for
from domain.images.options import (
    ImageQuality,
    ImageRequest,
    ImageSize,
    check_idempotency_key,
)
from domain.images.quota import DailyQuota, day_start, seconds_until_tomorrow

T0 = datetime(2026, 5, 1, 22, 0, tzinfo=UTC)
LATER = T0 + timedelta(seconds=30)


def job(status: ImageStatus = ImageStatus.QUEUED) -> ImageJob:
    made = ImageJob.request("img1", "user1", ImageRequest.parse("a red fox", None, None), T0)
    made.status = status
    return made


def test_a_new_job_is_queued_with_defaults() -> None:
    made = job()
    assert made.status is ImageStatus.QUEUED
    assert (made.size, made.quality) == (ImageSize.SQUARE, ImageQuality.AUTO)
    assert made.attempts == 0 and not made.is_finished


def test_start_moves_queued_to_generating_and_counts_attempts() -> None:
    made = job()
    made.start(LATER)
    assert made.status is ImageStatus.GENERATING and made.attempts == 1
    made.start(LATER)  # a redelivery after a crash starts over
    assert made.attempts == 2 and made.updated_at == LATER


def test_complete_moves_generating_to_ready_with_the_key() -> None:
    made = job()
    made.start(T0)
    event = made.complete("images/user1/img1.png", LATER)
    assert made.status is ImageStatus.READY and made.is_finished
    assert made.object_key == "images/user1/img1.png" and made.completed_at == LATER
    assert event.image_id == "img1" and event.user_id == "user1"


@pytest.mark.parametrize("status", [ImageStatus.QUEUED, ImageStatus.READY, ImageStatus.FAILED,
                                    ImageStatus.DELETED])
def test_complete_only_from_generating(status: ImageStatus) -> None:
    with pytest.raises(InvalidImageTransition):
        job(status).complete("k", LATER)


@pytest.mark.parametrize("status", [ImageStatus.READY, ImageStatus.FAILED, ImageStatus.DELETED])
def test_a_finished_job_never_starts_again(status: ImageStatus) -> None:
    with pytest.raises(InvalidImageTransition):
        job(status).start(LATER)


@pytest.mark.parametrize("status", [ImageStatus.QUEUED, ImageStatus.GENERATING])
def test_fail_records_the_reason(status: ImageStatus) -> None:
    made = job(status)
    made.fail("refused by the content policy", LATER)
    assert made.status is ImageStatus.FAILED
    assert made.failure_reason == "refused by the content policy"


@pytest.mark.parametrize("status", [ImageStatus.READY, ImageStatus.FAILED, ImageStatus.DELETED])
def test_fail_refuses_finished_jobs(status: ImageStatus) -> None:
    with pytest.raises(InvalidImageTransition):
        job(status).fail("x", LATER)


def test_fail_keeps_reasons_short() -> None:
    made = job(ImageStatus.GENERATING)
    made.fail("x" * 10_000, LATER)
    assert made.failure_reason is not None and len(made.failure_reason) == 500


def test_hide_and_unhide_for_moderation() -> None:
    made = job(ImageStatus.READY)
    made.hide(LATER)
    assert made.hidden and not made.visible_to_owner
    made.unhide(LATER)
    assert made.visible_to_owner


def test_delete_from_any_state_hands_back_the_object_key() -> None:
    made = job()
    made.start(T0)
    made.complete("images/user1/img1.png", T0)
    assert made.delete(LATER) == "images/user1/img1.png"
    assert made.status is ImageStatus.DELETED and made.object_key is None
    assert not made.visible_to_owner
    with pytest.raises(InvalidImageTransition):
        made.hide(LATER)
    assert job().delete(LATER) is None


def test_same_request_compares_prompt_size_quality() -> None:
    made = job()
    assert made.same_request(ImageRequest.parse("a red fox", "1024x1024", "auto"))
    assert not made.same_request(ImageRequest.parse("a red fox", "1536x1024", "auto"))
    assert not made.same_request(ImageRequest.parse("a blue fox", None, None))


def test_object_keys_are_deterministic() -> None:
    assert object_key_for("u1", "i1") == "images/u1/i1.png"


@pytest.mark.parametrize("prompt", ["", "   ", "x" * 4001])
def test_prompts_are_1_to_4000_characters(prompt: str) -> None:
    with pytest.raises(InvalidPrompt):
        ImageRequest.parse(prompt, None, None)


def test_prompt_limits_are_inclusive() -> None:
    assert ImageRequest.parse("x", None, None).prompt == "x"
    assert len(ImageRequest.parse("x" * 4000, None, None).prompt) == 4000


@pytest.mark.parametrize("size", ["1024x1024", "1536x1024", "1024x1536", "auto"])
@pytest.mark.parametrize("quality", ["low", "medium", "high", "auto"])
def test_every_gpt_image_1_option_is_accepted(size: str, quality: str) -> None:
    parsed = ImageRequest.parse("p", size, quality)
    assert (parsed.size.value, parsed.quality.value) == (size, quality)


def test_other_sizes_and_qualities_are_refused() -> None:
    with pytest.raises(InvalidImageSize):
        ImageRequest.parse("p", "512x512", None)
    with pytest.raises(InvalidImageQuality):
        ImageRequest.parse("p", None, "hd")


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "caf\u00e9"])
def test_idempotency_keys_are_printable_ascii(key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        check_idempotency_key(key)
    assert check_idempotency_key(None) is None
    assert check_idempotency_key("order-42 retry") == "order-42 retry"


def test_quota_is_lower_for_guests() -> None:
    quota = DailyQuota(guest=2, member=5)
    quota.check(is_guest=True, used_today=1, now=T0)
    with pytest.raises(DailyQuotaExceeded):
        quota.check(is_guest=True, used_today=2, now=T0)
    quota.check(is_guest=False, used_today=4, now=T0)
    with pytest.raises(DailyQuotaExceeded):
        quota.check(is_guest=False, used_today=5, now=T0)


def test_quota_retry_after_is_the_time_until_midnight_utc() -> None:
    with pytest.raises(DailyQuotaExceeded) as refused:
        DailyQuota(guest=0).check(is_guest=True, used_today=0, now=T0)
    assert refused.value.retry_after == 2 * 3600
    assert refused.value.code == "daily_quota_exceeded"


def test_day_boundaries() -> None:
    assert day_start(T0) == datetime(2026, 5, 1, tzinfo=UTC)
    assert seconds_until_tomorrow(datetime(2026, 5, 1, 23, 59, 59, tzinfo=UTC)) == 1
