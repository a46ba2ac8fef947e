"""Errors the Graph client raises, translated from HTTP at the boundary."""

from __future__ import annotations

from migrate.errors import EXIT_ITEMS_FAILED, MigrateError, PermissionMissing, TransientError


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
