from typing import Annotated, Literal

from litestar import Controller, delete, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.status_codes import HTTP_200_OK

from application.admin.images import DeleteImageAsAdmin, HideImage, SearchImages
from domain.images.errors import ImageNotFound, InvalidImageTransition
from domain.images.model import ImageStatus
from entrypoints.admin_api.auth import Admin
from entrypoints.admin_api.openapi import ADMIN, errors
from entrypoints.admin_api.schemas import (
    AdminImagePageView,
    AdminImageView,
    InvalidCursor,
    encode_cursor,
    user_cursor,
)
from entrypoints.http_edge.error_codes import INVALID_REQUEST
from entrypoints.wiring.di import Injected

Limit = Annotated[int, QueryParameter(ge=1, le=100, description="page size")]
Cursor = Annotated[str | None, QueryParameter(
    max_length=200, description="`next_cursor` of the previous page")]
Status = Literal["queued", "generating", "ready", "failed", "deleted"]


class ImagesController(Controller):
    path = "/images"
    tags = ["images"]

    @get("/", responses=errors(ADMIN, INVALID_REQUEST, InvalidCursor),
         summary="Images by status and/or owner, newest first")
    async def search(
        self, search_images: Injected[SearchImages], admin: Admin,
        status: FromQuery[Status | None] = None,
        user_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        cursor: Cursor = None, limit: Limit = 50,
    ) -> AdminImagePageView:
        """Images of every user, hidden and deleted ones included, filtered by status and/or owner,
        newest first; follow `next` for older ones."""
        page = await search_images(
            ImageStatus(status) if status else None, user_id or None, limit,
            user_cursor(cursor))
        following = page.next and encode_cursor([page.next[0].isoformat(), page.next[1]])
        return AdminImagePageView([AdminImageView.of(j) for j in page.images], following or None)

    @post("/{image_id:str}/hide", status_code=HTTP_200_OK,
          responses=errors(ADMIN, ImageNotFound, InvalidImageTransition),
          summary="Moderation: hide the image from everyone (kept stored)")
    async def hide(
        self, image_id: FromPath[str], hide_image: Injected[HideImage], admin: Admin
    ) -> AdminImageView:
        """Moderation: the image stays stored but neither its owner nor anyone else is shown it.
        Recorded in the audit log."""
        return AdminImageView.of(await hide_image(admin, image_id))

    @delete("/{image_id:str}", status_code=HTTP_200_OK, responses=errors(ADMIN, ImageNotFound),
            summary="Moderation: delete the image and its stored picture")
    async def remove(
        self, image_id: FromPath[str], delete_image: Injected[DeleteImageAsAdmin], admin: Admin
    ) -> AdminImageView:
        """Moderation: deletes the image and its stored picture; the owner's phone receives
        `image.deleted` on the realtime socket. Recorded in the audit log."""
        return AdminImageView.of(await delete_image(admin, image_id))
