"""The desk app: one page and its static files (Vue 3, no build step)."""

from __future__ import annotations

from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "desk"
    verbose_name = "The desk (reference web client)"
