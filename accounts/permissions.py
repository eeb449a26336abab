"""Permission classes, one per rule of the roles: read, edit, administer."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts import roles


class CanRead(BasePermission):
    """Viewers, editors and admins read everything."""

    message = "You need a Showdesk role (viewer, editor or admin) to see this."

    def has_permission(self, request, view) -> bool:
        return roles.can_read(request.user)


class CanEdit(BasePermission):
    """Editors and admins create, change, publish, archive and delete."""

    message = "Only editors and admins can change this."

    def has_permission(self, request, view) -> bool:
        return roles.can_edit(request.user)


class IsAdmin(BasePermission):
    """Admins redrive dead jobs and see every failure."""

    message = "Only admins can do this."

    def has_permission(self, request, view) -> bool:
        return roles.is_admin(request.user)


class ReadOrEdit(BasePermission):
    """Reading needs any role; unsafe methods need an editing role."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        rule = CanRead() if request.method in SAFE_METHODS else CanEdit()
        self.message = rule.message
        return rule.has_permission(request, view)


class IsAuthenticatedMember(CanRead):
    """Any role, whatever the method: for actions on one's own things (notifications, follow)."""
