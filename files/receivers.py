"""Storage follows the rows: a deleted file's object is deleted once the deletion commits.

Whatever deleted the row (the API, the admin, pruning, its episode's deletion), the
object goes too; a rolled-back deletion keeps it.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from files.models import FileAsset
from files.storage import file_storage

logger = structlog.get_logger(__name__)


def delete_object(key: str) -> None:
    """Delete one object; a failure is logged (the object is left behind), never raised."""
    try:
        file_storage().delete(key)
    except Exception as exc:
        logger.warning("file_object_delete_failed", storage_key=key, error=repr(exc))


@receiver(post_delete, sender=FileAsset)
def file_row_deleted(sender, instance: FileAsset, **kwargs: Any) -> None:
    key = instance.storage_key
    transaction.on_commit(lambda: delete_object(key))
