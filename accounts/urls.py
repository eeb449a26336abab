"""Routes of the auth endpoints, under /api/v1/auth/."""

from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/login/", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/me/", views.MeView.as_view(), name="auth-me"),
]
