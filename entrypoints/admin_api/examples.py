"""One example of each request body and success answer of the admin API, by its schema's
name in the OpenAPI document (or an operation's id when its answer has no named schema)."""

from typing import Any

AT = "2026-05-01T09:00:00Z"
LATER = "2026-05-02T17:30:00Z"
DEVICE = {"device_id": "IDFV-3F2A9C1B7D4E5F60A1B2C3D4", "platform": "ios", "created_at": AT,
          "last_seen_at": LATER, "revoked_at": None}
USER = {"id": "usr_01HZX4K9M2", "kind": "member", "status": "active",
        "email": "ada@example.com", "email_confirmed": True, "external_id": None,
        "display_name": "Ada", "created_at": AT, "last_seen_at": LATER}
IMAGE = {"id": "img_01HZX4QF3C", "user_id": "usr_01HZX4K9M2", "status": "ready",
         "hidden": False, "prompt": "a red fox in the snow", "size": "1024x1024",
         "quality": "low", "object_key": "images/usr_01HZX4K9M2/img_01HZX4QF3C.png",
         "failure_reason": None, "created_at": AT, "updated_at": AT}
KEY = {"kid": "k-2026-05-01", "state": "active", "created_at": AT, "activated_at": AT,
       "retiring_at": None, "retired_at": None, "revoked_at": None,
       "public_jwk": {"kty": "OKP", "crv": "Ed25519",
                      "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                      "kid": "k-2026-05-01", "use": "sig", "alg": "EdDSA"}}

EXAMPLES: dict[str, Any] = {
    # request bodies
    "LoginRequest": {"email": "ops@example.com", "password": "a long admin passphrase"},
    "BroadcastRequest": {"channel": "broadcast",
                         "data": {"type": "notice", "text": "Maintenance at 22:00 UTC"}},
    # success answers
    "AdminSessionView": {"token": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZG0ifQ.c2ln",
                         "token_type": "Bearer", "expires_in": 900,
                         "admin": {"id": "adm_01HZX6", "email": "ops@example.com"}},
    "UserView": USER,
    "UserPageView": {"users": [USER], "next_cursor": None},
    "UserDetailView": {"user": USER, "devices": [DEVICE], "image_count": 12,
                       "live_sessions": 1},
    "DeviceView": DEVICE,
    "DevicesView": {"devices": [DEVICE]},
    "AdminImageView": IMAGE,
    "AdminImagePageView": {"images": [IMAGE], "next_cursor": "WyIyMDI2LTA1LTAxIiwiaW1nIl0"},
    "AuditPageView": {"entries": [{
        "seq": 42, "at": LATER, "actor": "adm_01HZX6", "actor_email": "ops@example.com",
        "action": "user.disable", "target_type": "user", "target_id": "usr_01HZX4K9M2",
        "source_ip": "203.0.113.7", "details": {"reason": "abuse report"}}],
        "next_cursor": None},
    "BroadcastView": {"channel": "broadcast", "published": True},
    "KeysView": {"keys": [KEY]},
    "KeyMovesView": {"moves": ["k-2026-05-01: next -> active", "k-2026-04-01: active -> retiring"]},
    # answers without a named schema, by operation id
    "V1ApiAdminHealthzHealthz": {"status": "ok"},
}
