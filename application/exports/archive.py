"""The export's zip: profile.json, devices.json, sign_ins.json, images.json and
images/<id>.png."""

import json
import tempfile
import zipfile
from datetime import datetime
from typing import Any

from application.ports.images import ObjectStore
from domain.devices.model import Device
from domain.images.model import ImageJob, ImageStatus
from domain.users.identities import LinkedIdentity
from domain.users.model import User

# The archive is assembled in a temporary file that spills to disk past this size, one
# picture at a time; the object store's port then takes it whole.
IN_MEMORY_UP_TO = 8 * 1024 * 1024


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


def profile_record(user: User) -> dict[str, Any]:
    return {
        "id": user.id, "kind": user.kind.value, "email": user.email,
        "email_confirmed": user.email_confirmed, "created_at": _when(user.created_at),
        "preferences": {"display_name": user.display_name,
                        "notify_by_email": user.notify_by_email},
    }


def device_record(device: Device) -> dict[str, Any]:
    return {
        "device_id": device.device_id, "platform": device.platform.value,
        "created_at": _when(device.created_at), "last_seen_at": _when(device.last_seen_at),
        "revoked_at": _when(device.revoked_at),
    }


def sign_in_record(identity: LinkedIdentity) -> dict[str, Any]:
    return {"provider": identity.provider.value, "email": identity.email,
            "linked_at": _when(identity.created_at)}


def image_file(job: ImageJob) -> str | None:
    """The picture's name inside the zip, for images that have one."""
    return f"images/{job.id}.png" if job.status is ImageStatus.READY and job.object_key else None


def image_record(job: ImageJob, file: str | None) -> dict[str, Any]:
    return {
        "id": job.id, "prompt": job.prompt, "size": job.size.value,
        "quality": job.quality.value, "status": job.status.value,
        "created_at": _when(job.created_at), "completed_at": _when(job.completed_at),
        "file": file,
    }


async def build_archive(
    store: ObjectStore, user: User, devices: list[Device], sign_ins: list[LinkedIdentity],
    images: list[ImageJob], stamped: datetime,
) -> bytes:
    """The zip's bytes, every entry dated `stamped` (the same export built twice is the same
    zip). A ready image whose object is missing is listed with no file."""
    records = []

    def named(name: str, compress_type: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=stamped.utctimetuple()[:6])
        info.compress_type = compress_type
        return info

    with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_UP_TO) as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for job in images:
                file = image_file(job)
                if file is not None and job.object_key is not None:
                    picture = await store.get(job.object_key)
                    if picture is None:
                        file = None
                    else:
                        # PNGs are compressed already.
                        archive.writestr(named(file, zipfile.ZIP_STORED), picture)
                records.append(image_record(job, file))
            archive.writestr(named("profile.json"), _json(profile_record(user)))
            archive.writestr(named("devices.json"), _json([device_record(d) for d in devices]))
            archive.writestr(named("sign_ins.json"), _json([sign_in_record(i) for i in sign_ins]))
            archive.writestr(named("images.json"), _json(records))
        spool.seek(0)
        return spool.read()
