from dataclasses import dataclass

from adapters.crypto.keyring_cache import KeyRingCache
from application.admin.audit_log import ListAuditLog
from application.admin.broadcast import Broadcast
from application.admin.devices import ListUserDevices, RevokeUserDevice
from application.admin.images import DeleteImageAsAdmin, HideImage, SearchImages
from application.admin.keys import RevokeSigningKey, RotateKeysNow
from application.admin.local_admins import LocalAdminLogin
from application.admin.users import SearchUsers, SetUserStatus, ShowUser
from application.keys.manage_keys import ListKeys
from application.ports.admin import AdminTokenVerifier
from entrypoints.http_edge.rate_limit import RateLimits
from entrypoints.wiring.settings import Settings


@dataclass(frozen=True)
class AdminServices:
    """Everything the admin API's handlers use, resolved once by its composition root."""

    settings: Settings
    admin_tokens: AdminTokenVerifier
    keyring: KeyRingCache
    rate_limits: RateLimits
    login: LocalAdminLogin
    search_users: SearchUsers
    show_user: ShowUser
    disable_user: SetUserStatus
    enable_user: SetUserStatus
    list_devices: ListUserDevices
    revoke_device: RevokeUserDevice
    list_keys: ListKeys
    rotate_keys: RotateKeysNow
    revoke_key: RevokeSigningKey
    search_images: SearchImages
    hide_image: HideImage
    delete_image: DeleteImageAsAdmin
    broadcast: Broadcast
    audit_log: ListAuditLog
