"""What may happen to a guest: upgrade in place, merge into a member, purge when idle."""

from datetime import datetime, timedelta

from domain.shared.errors import InvalidInput
from domain.users.model import NotAGuest, User, UserKind


class CannotMergeIntoSelf(InvalidInput):
    """A guest cannot be merged into itself."""

    code = "cannot_merge_into_self"


def check_merge(guest: User, member: User) -> None:
    """Only a guest merges, only into another, active member."""
    if not guest.is_guest:
        raise NotAGuest()
    if guest.id == member.id:
        raise CannotMergeIntoSelf()
    guest.ensure_active()
    member.ensure_active()
    if member.kind is not UserKind.MEMBER:
        raise NotAGuest("merge-guest needs a member's credentials")


def purge_cutoff(now: datetime, inactivity: timedelta) -> datetime:
    """Guests last seen before this instant are idle enough to purge."""
    return now - inactivity


def is_purgeable(
    user: User, now: datetime, inactivity: timedelta, has_live_transfer_code: bool
) -> bool:
    """An idle guest is purged, unless a live transfer code still points at it."""
    return (
        user.is_guest
        and user.last_seen_at < purge_cutoff(now, inactivity)
        and not has_live_transfer_code
    )
