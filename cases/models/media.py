"""Media attached to a case, and who may see which of it.

The asset itself (``media_handling.MediaAsset``) knows nothing of cases; the
link here carries the case-side facts: who added it, its caption and place in
the gallery, and whether the uploader has released it to the case.

Visibility, on top of being able to see the case (``cases.permissions``):
the uploader sees their own media in every state; everyone else sees an item
only once it is released *and* its asset is ready, so nothing reaches a
colleague before metadata is stripped and the uploader has decided on faces.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cases.models.case import Case
from media_handling.models import MediaAsset

__all__ = ["CaseAsset"]


#: Items everyone who can see the case may see: released, and ready (so not
#: processing, nor back under review). The one definition every route uses:
#: ``visible_to`` here, ``CaseAsset.is_visible_to_others`` and the findings
#: panel (``portal.selectors``).
SHOWN_TO_CASE = Q(released_at__isnull=False, asset__status=MediaAsset.Status.READY)


class CaseAssetQuerySet(models.QuerySet):
    def shown_to_case(self) -> CaseAssetQuerySet:
        """Items everyone on their case may see (see ``SHOWN_TO_CASE``)."""
        return self.filter(SHOWN_TO_CASE)

    def visible_to(self, user) -> CaseAssetQuerySet:
        """Items of any case ``user`` may see media of (case access is separate)."""
        shown = SHOWN_TO_CASE
        if user.is_authenticated:
            shown |= Q(added_by=user)
        return self.filter(shown)

    def gallery(self) -> CaseAssetQuerySet:
        return self.select_related("asset").order_by("position", "pk")


class CaseAsset(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="media")
    asset = models.ForeignKey(
        MediaAsset, on_delete=models.CASCADE, related_name="case_links"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    caption = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    released_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = CaseAssetQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "asset"], name="case_asset_once")
        ]

    def __str__(self) -> str:
        return f"{self.asset} in case {self.case_id}"

    @property
    def is_released(self) -> bool:
        return self.released_at is not None

    @property
    def is_visible_to_others(self) -> bool:
        return self.is_released and self.asset.status == MediaAsset.Status.READY

    def visible_to(self, user) -> bool:
        """Whether ``user``, who can see the case, may see this item."""
        return (user.is_authenticated and self.added_by_id == user.pk) or (
            self.is_visible_to_others
        )
