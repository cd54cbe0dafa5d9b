from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import Provide
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from application.images.delete_image import DeleteImage
from application.images.get_image import GetImage
from application.images.list_images import ListImages
from application.images.request_image import RequestImage
from application.ports.images import SignedObjectReader
from domain.images.errors import (
    DailyQuotaExceeded,
    IdempotencyKeyReused,
    ImageNotFound,
    InvalidCursor,
    InvalidIdempotencyKey,
    InvalidImageQuality,
    InvalidImageSize,
    InvalidPrompt,
    SignedUrlExpired,
    SignedUrlRefused,
)
from domain.shared.errors import ConcurrentUpdate, NotFound
from entrypoints.http_edge.error_codes import INVALID_REQUEST
from entrypoints.mobile_api.auth import CurrentUser, provide_principal
from entrypoints.mobile_api.image_views import (
    ImageAccepted,
    ImagePageView,
    ImageRequestBody,
    ImageView,
)
from entrypoints.mobile_api.openapi import BODY, SIGNED_IN, errors
from entrypoints.wiring.di import Injected
from entrypoints.wiring.tracing import current_traceparent

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
IdempotencyKey = Annotated[str | None, HeaderParameter(
    name="Idempotency-Key", required=False,
    description="Repeat a request safely: the same key and body answer the same image")]


def base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url)


class ImagesController(Controller):
    path = "/images"
    tags = ["images"]
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @post("/", status_code=HTTP_202_ACCEPTED,
          responses=errors(SIGNED_IN, BODY, InvalidPrompt, InvalidImageSize, InvalidImageQuality,
                           InvalidIdempotencyKey, IdempotencyKeyReused, DailyQuotaExceeded,
                           ConcurrentUpdate),
          summary="Queue an image; 429 with Retry-After once the day's quota is used")
    async def request_image(
        self, data: JSONBody[ImageRequestBody], request_image: Injected[RequestImage],
        principal: CurrentUser, idempotency_key: IdempotencyKey = None,
    ) -> ImageAccepted:
        """Queues an image for the prompt; answers 202 with the job at once. Its `image.ready`
        arrives on the realtime socket (or poll `GET /v1/api/images/{id}`). An `Idempotency-Key`
        header makes a retry safe; 429 `daily_quota_exceeded` with Retry-After once the day's
        quota is used."""
        job = await request_image(
            principal.user, data.prompt, data.size, data.quality, idempotency_key,
            current_traceparent())
        return ImageAccepted(job.id, job.status.value)  # type: ignore[arg-type]

    @get("/", responses=errors(SIGNED_IN, INVALID_REQUEST, InvalidCursor),
          summary="The caller's images, newest first, a page at a time")
    async def list_images(
        self, list_images: Injected[ListImages], principal: CurrentUser,
        request: Request[Any, Any, Any],
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
        limit: Annotated[int | None, QueryParameter(ge=1, le=100)] = None,
    ) -> ImagePageView:
        """The caller's images, newest first, a page at a time (follow `next`); what a phone reads
        after every reconnect to catch up."""
        page = await list_images(principal.user.id, cursor, limit)
        base = base_url(request)
        return ImagePageView([ImageView.of(item, base) for item in page.items], page.next_cursor)

    @get("/{image_id:str}", responses=errors(SIGNED_IN, ImageNotFound),
         summary="One image: its status, and a short-lived download url once ready")
    async def get_image(
        self, image_id: FromPath[str], get_image: Injected[GetImage], principal: CurrentUser,
        request: Request[Any, Any, Any],
    ) -> ImageView:
        """One image: its status (`queued`, `generating`, `ready`, `failed` with a reason) and, once
        ready, a download `url` valid a few minutes."""
        details = await get_image(principal.user.id, image_id)
        return ImageView.of(details, base_url(request))

    @delete("/{image_id:str}", status_code=HTTP_204_NO_CONTENT,
            responses=errors(SIGNED_IN, ImageNotFound), summary="Delete an image and its picture")
    async def delete_image(
        self, image_id: FromPath[str], delete_image: Injected[DeleteImage],
        principal: CurrentUser,
    ) -> None:
        """Deletes the image and its stored picture; it still counts toward the day's quota."""
        await delete_image(principal.user.id, image_id)


@get("/files/{key:path}", tags=["images"],
     responses=errors(INVALID_REQUEST, SignedUrlRefused, SignedUrlExpired, NotFound),
     summary="A stored picture behind an expiring signed link (embedded default only)",
     media_type="image/png")
async def signed_file(
    key: FromPath[str], signed_files: Injected[SignedObjectReader | None],
    expires: Annotated[int, QueryParameter()],
    sig: Annotated[str, QueryParameter(max_length=128)],
) -> Response[bytes]:
    """A stored picture behind an expiring signed link (the embedded default; in AWS links point at
    S3). The link in `url` fields is all a phone needs."""
    if signed_files is None:
        raise ImageNotFound()
    data = await signed_files.read_signed(key.lstrip("/"), expires, sig)
    return Response(data, media_type="image/png",
                    headers={"Cache-Control": "private, max-age=60"})
