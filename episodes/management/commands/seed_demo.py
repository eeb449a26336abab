"""Make demo users of each role and a season of episodes, and print the logins made."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.roles import ADMINS, EDITORS, VIEWERS
from episodes import services
from episodes.models import Episode

DEMO_USERS = (
    ("admin", ADMINS, True),
    ("editor", EDITORS, False),
    ("viewer", VIEWERS, False),
)
DEMO_TITLES = (
    "Pilot",
    "The Long Night",
    "Signals",
    "Cold Open",
    "Second Act",
    "Broadcast",
    "Off Air",
    "Finale",
)


class Command(BaseCommand):
    help = "Create demo users (admin, editor, viewer) and a season of episodes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--season", type=int, default=1)
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (known passwords!)"
        )

    def handle(self, *args: Any, season: int, force: bool, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo makes users with known passwords; use --force.")
        made_users = []
        for username, role, superuser in DEMO_USERS:
            user, created = self._ensure_user(username, role, superuser)
            made_users.append((user, role, created))
        editor = made_users[1][0]
        made = 0
        for number, title in enumerate(DEMO_TITLES, start=1):
            if Episode.objects.filter(season=season, episode_number=number).exists():
                continue
            episode = services.episode_create(
                actor=editor,
                title=title,
                episode_number=number,
                season=season,
                description=f"Episode {number} of season {season}: {title.lower()}.",
                air_date=datetime.date(2026, 1, 1) + datetime.timedelta(weeks=number),
            )
            services.composition_create(
                episode=episode, actor=editor, name="Main cut", layout={"tracks": []}
            )
            if number <= 3:
                services.episode_publish(episode=episode, actor=editor)
            made += 1
        self.stdout.write(f"Episodes created: {made} (season {season}).")
        self.stdout.write("Logins (username / password):")
        for user, role, created in made_users:
            # A user that existed before keeps its password: printing ours would mislead.
            password = self._password(user.username) if created else "(unchanged, already existed)"
            self.stdout.write(f"  {user.username:<7} / {password}   role: {role}")

    @staticmethod
    def _password(username: str) -> str:
        return f"showdesk-{username}"

    def _ensure_user(self, username: str, role: str, superuser: bool) -> tuple[Any, bool]:
        # Every demo user is staff: the admin site shows each one what its role allows.
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": superuser}
        )
        if created:
            user.set_password(self._password(username))
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        return user, created
