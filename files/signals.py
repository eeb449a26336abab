"""Domain signals of files: what happened that is not just a row change.

`file_uploaded` is sent with `file` and `actor` (a user, or None for the system) when an
upload is verified and the file becomes `uploaded`. Deletions are Django's post_delete.
"""

from __future__ import annotations

from django.dispatch import Signal

file_uploaded = Signal()
