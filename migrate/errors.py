"""The MigrateError tree: every failure a user can see, each with an exit code and a hint.

Errors are translated at the boundary (config loading, Graph adapter, Slack adapter, store) and
printed by the single handler (run_app in migrate/ui/app.py) as one line; tracebacks only with
--traceback. Exit codes are the project's contract with scripts and CI: 0 everything planned is
done; 1 some items failed and the next run retries them; 2 usage or configuration error (a
credential not set at all is configuration); 3 authentication or permission error (a credential
set but refused, or a grant missing); 4 another run holds the lock; 70 a bug in migrate itself
(an unexpected exception, sysexits' EX_SOFTWARE: unlike 1, running again is not expected to get
past it; report it with the --traceback output); 75 stopped at --max-duration with work left
(the next run resumes).
"""

from __future__ import annotations

# The contract's codes (see above)
EXIT_OK = 0
EXIT_ITEMS_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_LOCKED = 4
EXIT_TIME_BUDGET = 75
# A bug in migrate itself (sysexits' EX_SOFTWARE), distinct from 1, which promises that the
# next run retries what failed.
EXIT_BUG = 70


class MigrateError(Exception):
    """Base of every error `migrate` reports to a user."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """The message and its hint on one line, as the CLI prints it."""
        text = self.message.replace("\n", " ")
        return f"{text} ({self.hint})" if self.hint else text


class UsageError(MigrateError):
    """The command line is wrong."""

    exit_code = EXIT_USAGE


class ConfigError(MigrateError):
    """migrate.toml, the environment or an override file holds something invalid."""

    exit_code = EXIT_USAGE


class PlanRefused(MigrateError):
    """`run --plan FILE`: the file was altered, or the source moved past it."""

    exit_code = EXIT_USAGE


class AuthError(MigrateError):
    """Credentials are missing, rejected, or lack a permission/scope."""

    exit_code = EXIT_AUTH


class PermissionMissing(AuthError):
    """A Graph application permission or Slack scope is not granted."""


class LockedError(MigrateError):
    """Another `migrate` process holds the run lock of this working directory."""

    exit_code = EXIT_LOCKED


class ServiceUnreachable(MigrateError):
    """Graph or Slack cannot be reached at the configured URL (refused, unknown host, no
    answer). Not a verdict on the migration: exit 2 (the URL, proxy or network to fix)."""

    exit_code = EXIT_USAGE


class StoreError(MigrateError):
    """The state store cannot be opened or is from a newer version of migrate."""

    exit_code = EXIT_USAGE


class TransientError(MigrateError):
    """A failure that a later run is expected to get past (network, 5xx, throttling)."""

    exit_code = EXIT_ITEMS_FAILED


class ItemsFailed(MigrateError):
    """Some items failed; the next run retries them."""

    exit_code = EXIT_ITEMS_FAILED


class TimeBudgetExhausted(MigrateError):
    """--max-duration was reached with work left; the next run resumes."""

    exit_code = EXIT_TIME_BUDGET
