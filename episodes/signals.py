"""Domain signals of episodes: what happened that is not just a row change.

Row changes are announced by Django's post_save/post_delete; these carry the rest.
Every one is sent with `episode` and `actor` (a user, or None for the system);
`episode_viewed` also with `joined` (the user just became a viewer) and `viewers`.
"""

from __future__ import annotations

from django.dispatch import Signal

episode_published = Signal()
episode_archived = Signal()
episode_viewed = Signal()
