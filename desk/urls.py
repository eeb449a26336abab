"""The desk's route: the page at `/` (the client routes within it by the URL's fragment)."""

from __future__ import annotations

from django.urls import path

from desk import views

urlpatterns = [
    path("", views.index, name="desk"),
]
