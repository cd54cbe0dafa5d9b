"""One example of each request body and success answer of the mobile API, by its schema's
name in the OpenAPI document (or an operation's id when its answer has no named schema)."""

from typing import Any

DEVICE = "IDFV-3F2A9C1B7D4E5F60A1B2C3D4"
AT = "2026-05-01T09:00:00Z"
LATER = "2026-05-01T09:00:12Z"
USER = {"id": "usr_01HZX4K9M2", "kind": "member", "status": "active",
        "email": "ada@example.com", "email_confirmed": True, "display_name": "Ada",
        "notify_by_email": True, "created_at": AT}
IMAGE = {"id": "img_01HZX4QF3C", "status": "ready", "prompt": "a red fox in the snow",
         "size": "1024x1024", "quality": "low", "created_at": AT, "completed_at": LATER,
         "url": "https://media.example.com/images/img_01HZX4QF3C.png?expires=1746090000&sig=3b1",
         "failure_reason": None}
PAGE = "<!doctype html><html lang=en><title>Delete your Atelier account</title>...</html>"
ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIwMDEyMzQifQ.c2lnbmF0dXJl"

EXAMPLES: dict[str, Any] = {
    # request bodies
    "GuestRequest": {"device_id": DEVICE, "platform": "ios"},
    "RegisterRequest": {"email": "ada@example.com", "password": "correct horse battery staple",
                        "device_id": DEVICE, "platform": "ios"},
    "ConfirmRequest": {"email": "ada@example.com", "code": "493021"},
    "ResendCodeRequest": {"email": "ada@example.com"},
    "CredentialsRequest": {"email": "ada@example.com", "password": "correct horse battery staple"},
    "LoginRequest": {"email": "ada@example.com", "password": "correct horse battery staple",
                     "device_id": DEVICE, "platform": "ios"},
    "RefreshRequest": {"refresh_token": "rt1.Zm9vYmFyYmF6cXV4.7", "device_id": DEVICE},
    "ProfilePatch": {"display_name": "Ada", "notify_by_email": False},
    "PasswordResetRequest": {"email": "ada@example.com"},
    "PasswordResetConfirm": {"email": "ada@example.com", "code": "771204",
                             "password": "a new long passphrase"},
    "PasswordChange": {"current_password": "correct horse battery staple",
                       "password": "a new long passphrase"},
    "EmailChange": {"email": "ada.lovelace@example.com",
                    "password": "correct horse battery staple"},
    "EmailChangeConfirm": {"code": "118840"},
    "ImageRequestBody": {"prompt": "a red fox in the snow", "size": "1024x1024",
                         "quality": "low"},
    "DeleteAccountRequest": {"password": "correct horse battery staple"},
    "ProviderSignInRequest": {"id_token": ID_TOKEN, "device_id": DEVICE, "platform": "ios",
                              "nonce": "b5d1e0c4a7"},
    "LinkIdentityRequest": {"provider": "apple", "id_token": ID_TOKEN, "nonce": "b5d1e0c4a7"},
    "RedeemRequest": {"code": "K7QM-2XPD-9TRB", "device_id": DEVICE, "platform": "android"},
    # success answers
    "SessionView": {"user": USER, "tokens": {
        "access_token": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c3IifQ.c2ln",
        "id_token": "eyJhbGciOiJFZERTQSJ9.eyJlbWFpbCI6ImFkYSJ9.c2ln",
        "refresh_token": "rt1.Zm9vYmFyYmF6cXV4.7", "token_type": "Bearer", "expires_in": 3600}},
    "UserView": USER,
    "ConfirmedView": {"email": "ada@example.com", "email_confirmed": True},
    "ResendCodeView": {"status": "accepted"},
    "PasswordResetAccepted": {"status": "accepted"},
    "PasswordSetView": {"status": "password_set"},
    "EmailChangeAccepted": {"status": "code_sent"},
    "DeletionView": {"status": "deleted"},
    "DevicesView": {"devices": [{"device_id": DEVICE, "platform": "ios", "created_at": AT,
                                 "last_seen_at": LATER}]},
    "ExportAccepted": {"id": "exp_01HZX5A1B2", "status": "queued"},
    "ExportView": {"id": "exp_01HZX5A1B2", "status": "ready", "created_at": AT,
                   "completed_at": LATER, "expires_at": "2026-05-08T09:00:12Z",
                   "url": "https://media.example.com/exports/exp_01HZX5A1B2.zip?sig=9c2"},
    "IdentityView": {"provider": "apple", "email": "ada@privaterelay.appleid.com",
                     "created_at": AT},
    "IdentitiesView": {"identities": [{"provider": "apple",
                                       "email": "ada@privaterelay.appleid.com",
                                       "created_at": AT}]},
    "ImageAccepted": {"id": "img_01HZX4QF3C", "status": "queued"},
    "ImageView": IMAGE,
    "ImagePageView": {"items": [IMAGE], "next_cursor": "WyIyMDI2LTA1LTAxIiwiaW1nIl0"},
    "RealtimeTokenView": {"token": "eyJhbGciOiJFZERTQSJ9.eyJjaCI6InVzZXIifQ.c2ln",
                          "expires_in": 60, "url": "wss://api.example.com/v1/realtime"},
    "TransferCodeView": {"code": "K7QM-2XPD-9TRB", "expires_at": "2026-05-01T09:10:00Z"},
    # answers without a named schema, by operation id
    "WellKnownJwksJsonJwks": {"keys": [{
        "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        "kid": "k-2026-05-01", "use": "sig", "alg": "EdDSA"}]},
    "HealthzHealthz": {"status": "ok"},
    "ReadyzReadyz": {"status": "ok", "checks": {"database": "ok", "redis": "ok"}},
    "V1ApiAccountDeletionAsk": PAGE,
    "V1ApiAccountDeletionSendCode": PAGE,
    "V1ApiAccountDeletionConfirmConfirm": PAGE,
}
