"""The case page's media gallery: ``{% load case_media %}{% case_media case access %}``.

Needs ``request`` in the context (the case page has it). Two queries, whatever
the number of items: the items with their assets, and nothing per item.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from cases.models import Case, CaseAsset
from cases.permissions import CaseAccess
from media_handling import conf as media_conf
from media_handling.uploads import format_bytes

register = template.Library()

ACCEPT = (
    "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif,"
    "video/mp4,video/quicktime,video/webm,.mov,.mp4,.webm"
)


def item_context(
    item: CaseAsset, *, user, access: CaseAccess, case: Case | None = None
) -> dict[str, Any]:
    """What ``cases/_media_item.html`` needs for one item."""
    case = case or item.case
    asset = item.asset
    own = item.added_by_id == user.pk
    return {
        "case": case,
        "item": item,
        "asset": asset,
        "own": own,
        "can_remove": (own and access.can_edit) or access.can_manage,
        "url": reverse("case_media_gallery", args=[case.pk]) + f"{asset.pk}/",
        "roles": set((asset.renditions or {}).keys()),
        "version": f"{asset.version}-{int(item.is_released)}",
    }


def gallery_context(
    case: Case, access: CaseAccess, *, request, csp_nonce: Any = ""
) -> dict[str, Any]:
    user = request.user
    items = list(CaseAsset.objects.filter(case=case).visible_to(user).gallery())
    contexts = [item_context(i, user=user, access=access, case=case) for i in items]
    can_upload = access.can_edit and case.status != Case.Status.ARCHIVED
    return {
        "case": case,
        "access": access,
        "request": request,
        "csp_nonce": csp_nonce,
        "items": contexts,
        "can_upload": can_upload,
        "releasable": any(
            c["own"] and c["asset"].is_ready and not c["item"].is_released
            for c in contexts
        ),
        "accept": ACCEPT,
        "part_bytes": media_conf.part_bytes(),
        "max_image": media_conf.max_bytes("image"),
        "max_video": media_conf.max_bytes("video"),
        "max_image_label": format_bytes(media_conf.max_bytes("image")),
        "max_video_label": format_bytes(media_conf.max_bytes("video")),
    }


@register.inclusion_tag("cases/_media.html", takes_context=True)
def case_media(context, case: Case, access: CaseAccess) -> dict[str, Any]:
    return gallery_context(
        case, access, request=context["request"], csp_nonce=context.get("csp_nonce", "")
    )
