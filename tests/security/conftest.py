"""Fixtures of the security tests, and the xfail marks of fuzz cases blocked on a fix."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the fuzz items listed in their module's BLOCKED as strict xfails."""
    for item in items:
        blocked = getattr(item.module, "BLOCKED", None)
        callspec = getattr(item, "callspec", None)
        if not blocked or callspec is None:
            continue
        role = callspec.params.get("role")
        for (label, blocked_role), reason in blocked.items():
            if f"[{label}]" in item.name and blocked_role in (None, role):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
