"""Images: the moderation grid (short-lived links only), hide, delete after a confirmation."""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from application.admin.images import DeleteImageAsAdmin, HideImage, SearchImages
from application.admin.overview import ImageLinks
from domain.images.model import ImageStatus
from entrypoints.admin_api.schemas import encode_cursor, user_cursor
from entrypoints.console.web import (
    SignedIn,
    content_security_policy,
    form_of,
    local_path,
    origin_of,
    page,
    see_other,
)
from entrypoints.wiring.di import Injected

PAGE_SIZE = 24


def _status(value: str | None) -> ImageStatus | None:
    try:
        return ImageStatus(value) if value else None
    except ValueError:
        return None


class ImagesPages(Controller):
    path = "/images"

    @get("/")
    async def grid(
        self, request: Request[Any, Any, Any], console: SignedIn,
        search_images: Injected[SearchImages], image_links: Injected[ImageLinks],
    ) -> Template:
        params = request.query_params
        status = _status(params.get("status"))
        owner = (params.get("owner") or "").strip()[:64]
        found = await search_images(status, owner or None, PAGE_SIZE,
                                    user_cursor(params.get("cursor") or None))
        links = await image_links(found.images)
        following = None
        if found.next:
            following = encode_cursor([found.next[0].isoformat(), found.next[1]])
        csp = content_security_policy(origin for url in links.values()
                                      if (origin := origin_of(url)))
        return page("images.html", request, console, nav="images", title="Images",
                    headers={"Content-Security-Policy": csp},
                    images=found.images, links=links, status_filter=status.value if status else "",
                    owner=owner, statuses=[s.value for s in ImageStatus],
                    next_cursor=following)

    @post("/{image_id:str}/hide")
    async def hide(
        self, request: Request[Any, Any, Any], image_id: FromPath[str], console: SignedIn,
        hide_image: Injected[HideImage],
    ) -> Response[Any]:
        reason = (await form_of(request)).get("reason", "").strip()[:500]
        await hide_image(console.acting(reason or None), image_id)
        return see_other(_back(request), "image-hidden")

    @get("/{image_id:str}/delete")
    async def confirm_delete(
        self, request: Request[Any, Any, Any], image_id: FromPath[str], console: SignedIn,
    ) -> Template:
        return page("delete_image.html", request, console, nav="images",
                    title="Delete an image", image_id=image_id, back=_back(request))

    @post("/{image_id:str}/delete")
    async def delete(
        self, request: Request[Any, Any, Any], image_id: FromPath[str], console: SignedIn,
        delete_image: Injected[DeleteImageAsAdmin],
    ) -> Response[Any]:
        reason = (await form_of(request)).get("reason", "").strip()[:500]
        await delete_image(console.acting(reason or None), image_id)
        return see_other(_back(request), "image-deleted")


def _back(request: Request[Any, Any, Any]) -> str:
    """The grid with the filters the admin came from (`back` in the form or query)."""
    wanted = local_path(request.query_params.get("back"), "/images")
    return wanted if wanted.startswith("/images") else "/images"
