from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from adapters.crypto.keyring_cache import KeyRingCache
from application.auth.principal_cache import CachedAuthenticator
from application.auth.tokens import TokenFactory
from application.identity.confirm_email import ConfirmEmail
from application.identity.create_guest import CreateGuest
from application.identity.devices import ListDevices, RevokeDevice
from application.identity.login import Login
from application.identity.logout import Logout
from application.identity.merge_guest import MergeGuest
from application.identity.profile import UpdateProfile
from application.identity.refresh import RefreshSession
from application.identity.register import Register
from application.identity.resend_code import ResendConfirmationCode
from application.images.delete_image import DeleteImage
from application.images.get_image import GetImage
from application.images.list_images import ListImages
from application.images.request_image import RequestImage
from application.ports.images import SignedObjectReader
from application.transfers.issue_code import IssueTransferCode
from application.transfers.redeem_code import RedeemTransferCode
from entrypoints.http_edge.rate_limit import RateLimits
from entrypoints.wiring.settings import Settings

ReadinessCheck = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class MobileServices:
    """Everything the mobile API's handlers use, resolved once by the composition root."""

    settings: Settings
    authenticate: CachedAuthenticator
    tokens: TokenFactory
    keyring: KeyRingCache
    rate_limits: RateLimits
    readiness: ReadinessCheck
    create_guest: CreateGuest
    register: Register
    confirm_email: ConfirmEmail
    resend_confirmation_code: ResendConfirmationCode
    merge_guest: MergeGuest
    login: Login
    refresh: RefreshSession
    logout: Logout
    update_profile: UpdateProfile
    list_devices: ListDevices
    revoke_device: RevokeDevice
    issue_transfer_code: IssueTransferCode
    redeem_transfer_code: RedeemTransferCode
    request_image: RequestImage
    get_image: GetImage
    list_images: ListImages
    delete_image: DeleteImage
    signed_files: SignedObjectReader | None
