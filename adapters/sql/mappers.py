"""Rows <-> domain objects, explicitly; the domain never sees SQLAlchemy."""

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping

from adapters.local.credentials import LocalCredential
from application.ports.images import OutboxMessage
from domain.devices.model import Device, Platform
from domain.images.model import ImageJob, ImageStatus
from domain.images.options import ImageQuality, ImageSize
from domain.sessions.model import RefreshFamily
from domain.transfers.model import TransferCode
from domain.users.lockout import LoginAttempts
from domain.users.model import User, UserKind, UserStatus

Row = dict[str, Any]


def user_to_row(user: User) -> Row:
    return {
        "id": user.id, "kind": user.kind.value, "status": user.status.value,
        "email": user.email, "email_confirmed": user.email_confirmed,
        "external_id": user.external_id, "display_name": user.display_name,
        "notify_by_email": user.notify_by_email, "created_at": user.created_at,
        "last_seen_at": user.last_seen_at, "version": user.version,
    }


def row_to_user(row: Mapping[Any, Any]) -> User:
    return User(
        id=row["id"], kind=UserKind(row["kind"]), status=UserStatus(row["status"]),
        email=row["email"], email_confirmed=row["email_confirmed"],
        external_id=row["external_id"], display_name=row["display_name"],
        notify_by_email=row["notify_by_email"], created_at=row["created_at"],
        last_seen_at=row["last_seen_at"], version=row["version"],
    )


def device_to_row(device: Device) -> Row:
    return {
        "user_id": device.user_id, "device_id": device.device_id,
        "platform": device.platform.value, "created_at": device.created_at,
        "last_seen_at": device.last_seen_at, "revoked_at": device.revoked_at,
    }


def row_to_device(row: RowMapping) -> Device:
    return Device(
        user_id=row["user_id"], device_id=row["device_id"], platform=Platform(row["platform"]),
        created_at=row["created_at"], last_seen_at=row["last_seen_at"],
        revoked_at=row["revoked_at"],
    )


def family_to_row(family: RefreshFamily) -> Row:
    return {
        "id": family.id, "user_id": family.user_id, "device_id": family.device_id,
        "created_at": family.created_at, "expires_at": family.expires_at,
        "current_hash": family.current_hash, "generation": family.generation,
        "previous_hash": family.previous_hash, "rotation_nonce": family.rotation_nonce,
        "rotated_at": family.rotated_at, "revoked_at": family.revoked_at,
        "revoked_reason": family.revoked_reason,
    }


def row_to_family(row: Mapping[Any, Any]) -> RefreshFamily:
    nonce = row["rotation_nonce"]
    return RefreshFamily(
        id=row["id"], user_id=row["user_id"], device_id=row["device_id"],
        created_at=row["created_at"], expires_at=row["expires_at"],
        current_hash=row["current_hash"], generation=row["generation"],
        previous_hash=row["previous_hash"],
        rotation_nonce=bytes(nonce) if nonce is not None else None,
        rotated_at=row["rotated_at"], revoked_at=row["revoked_at"],
        revoked_reason=row["revoked_reason"],
    )


def transfer_code_to_row(code: TransferCode) -> Row:
    return {
        "hash": code.code_hash, "user_id": code.user_id, "created_at": code.created_at,
        "expires_at": code.expires_at, "used_at": code.used_at, "voided_at": code.voided_at,
    }


def row_to_transfer_code(row: RowMapping) -> TransferCode:
    return TransferCode(
        code_hash=row["hash"], user_id=row["user_id"], created_at=row["created_at"],
        expires_at=row["expires_at"], used_at=row["used_at"], voided_at=row["voided_at"],
    )


def attempts_to_row(attempts: LoginAttempts) -> Row:
    return {
        "email": attempts.email, "source": attempts.source, "failures": attempts.failures,
        "locked_until": attempts.locked_until, "last_failed_at": attempts.last_failed_at,
    }


def row_to_attempts(row: RowMapping) -> LoginAttempts:
    return LoginAttempts(
        email=row["email"], failures=row["failures"], locked_until=row["locked_until"],
        source=row["source"], last_failed_at=row["last_failed_at"])


def credential_to_row(credential: LocalCredential) -> Row:
    return {
        "email": credential.email, "subject": credential.subject,
        "password_hash": credential.password_hash, "created_at": credential.created_at,
        "confirmed": credential.confirmed, "disabled": credential.disabled,
        "code_hash": credential.code_hash, "code_expires_at": credential.code_expires_at,
        "code_attempts": credential.code_attempts,
    }


def row_to_credential(row: RowMapping) -> LocalCredential:
    return LocalCredential(
        email=row["email"], subject=row["subject"], password_hash=row["password_hash"],
        created_at=row["created_at"], confirmed=row["confirmed"], disabled=row["disabled"],
        code_hash=row["code_hash"], code_expires_at=row["code_expires_at"],
        code_attempts=row["code_attempts"],
    )


def image_to_row(job: ImageJob) -> Row:
    return {
        "id": job.id, "user_id": job.user_id, "status": job.status.value, "prompt": job.prompt,
        "size": job.size.value, "quality": job.quality.value, "object_key": job.object_key,
        "failure_reason": job.failure_reason, "idempotency_key": job.idempotency_key,
        "hidden": job.hidden, "attempts": job.attempts, "created_at": job.created_at,
        "updated_at": job.updated_at, "completed_at": job.completed_at,
    }


def row_to_image(row: RowMapping) -> ImageJob:
    return ImageJob(
        id=row["id"], user_id=row["user_id"], status=ImageStatus(row["status"]),
        prompt=row["prompt"], size=ImageSize(row["size"]), quality=ImageQuality(row["quality"]),
        object_key=row["object_key"], failure_reason=row["failure_reason"],
        idempotency_key=row["idempotency_key"], hidden=row["hidden"], attempts=row["attempts"],
        created_at=row["created_at"], updated_at=row["updated_at"],
        completed_at=row["completed_at"],
    )


def outbox_to_row(message: OutboxMessage) -> Row:
    return {
        "id": message.id, "topic": message.topic, "payload": json.dumps(message.payload),
        "created_at": message.created_at, "attempts": message.attempts,
    }


def row_to_outbox(row: RowMapping) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"], topic=row["topic"], payload=json.loads(row["payload"]),
        created_at=row["created_at"], attempts=row["attempts"],
    )
