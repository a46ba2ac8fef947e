"""Errors the Graph client raises, translated from HTTP at the boundary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from migrate.errors import (
    EXIT_ITEMS_FAILED,
    AuthError,
    MigrateError,
    PermissionMissing,
    TransientError,
)

if TYPE_CHECKING:
    from migrate.export.routes import Route


class GraphNotFound(MigrateError):
    """404: the team, channel, message or file is gone. Callers record a warning."""

    exit_code = EXIT_ITEMS_FAILED


class GraphRequestError(MigrateError):
    """A request Graph refused for a reason retrying will not fix (400, 409, ...)."""

    exit_code = EXIT_ITEMS_FAILED


class GraphUnavailable(TransientError):
    """Graph kept failing (5xx, resets, timeouts, throttling) after every retry."""


class FileTooLarge(MigrateError):
    """A download exceeded the size cap; the item is skipped with a warning."""

    exit_code = EXIT_ITEMS_FAILED

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


def permission_error(permission: str, what: str, code: str) -> PermissionMissing:
    needed = permission or "the application permission this call needs"
    return PermissionMissing(
        f"Graph refused {what} (403 {code}): the app lacks {needed}",
        hint=f"grant the application permission {needed} to the Entra app and give admin "
             "consent, then run `migrate doctor`")


def graph_error(status: int, code: str, message: str, route: Route, where: str) -> MigrateError:
    """Graph's refusal as our error — the one mapping for direct requests and $batch items:
    401 → AuthError (after a refresh was already tried), 403 → the missing permission (exit 3),
    404/410 → GraphNotFound (the caller records a warning), anything else → GraphRequestError."""
    what = f"{route.kind.replace('_', ' ')} ({where})"
    if status == 401:
        return AuthError(f"Graph rejected the token for {what}: {code}",
                         hint="check the tenant id and that the app's credential is valid")
    if status == 403:
        return permission_error(route.permission, what, code)
    if status in (404, 410):
        return GraphNotFound(f"{what} not found ({code})")
    return GraphRequestError(f"Graph answered {status} {code} for {what}: {message[:200]}")
