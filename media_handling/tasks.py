"""Background work for media (Django's Tasks API; the immediate backend in tests)."""

from django.tasks import task


@task
def process_asset(asset_id: int) -> str:
    """De-identify an upload, or blur chosen regions; returns the new status.

    Idempotent: it re-reads the asset, does only what its state asks for,
    and does nothing to an asset that is ready, needs review or was rejected.
    """
    from .services import asset_process

    return asset_process(asset_id=asset_id)
