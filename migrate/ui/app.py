"""The command-line frame every command runs in: the typer app, global options accepted before
or after the command name, and `run_app`, the one place that turns errors into one line on
stderr and an exit code (0 done, 1 items failed and retried next run, 2 usage or configuration,
3 credentials or permissions, 4 locked, 70 a bug, 75 stopped at --max-duration; tracebacks
only with --traceback). The commands themselves are in migrate/cli.py."""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

try:  # typer ≥ 0.24 vendors click; older releases depend on it
    from typer import _click as click
except ImportError:  # pragma: no cover - depends on the installed typer
    import click

from migrate import __version__
from migrate.config import Settings, load_settings
from migrate.errors import EXIT_BUG, EXIT_USAGE, MigrateError
from migrate.ui.console import Output, print_error, setup_logging

app = typer.Typer(
    name="migrate",
    help="Move an enterprise from Microsoft Teams to Slack: export (Graph) → plan → run "
    "(Slack) → verify, and scheduled syncs until cut-over.",
    no_args_is_help=True,
    add_completion=True,   # --install-completion, --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class AppState:
    """Global options, shared by every command through the click context."""

    config: Path | None = None
    workdir: Path | None = None
    out: Output = field(default_factory=Output)
    flags: dict = field(default_factory=dict)  # command options that override settings, by key
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            flags = {"workdir": str(self.workdir) if self.workdir else None, **self.flags}
            self._settings = load_settings(self.config, flags=flags)
            _WORKDIR["path"] = str(self._settings.workdir_path)
        return self._settings


# The working directory in use, to name it when the machine fails us (disk full, read-only).
_WORKDIR: dict[str, str] = {}
# Read by `main` when an unexpected exception escapes, to decide whether to show it.
_TRACEBACK = {"on": bool(os.environ.get("MIGRATE_TRACEBACK"))}


WORKSPACE_HELP = ("With workspaces listed in the config (Enterprise Grid): migrate only this "
                  "workspace (its teams, its token, <workdir>/workspaces/NAME); without it, every "
                  "workspace runs side by side.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"migrate {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(
        "--config", metavar="FILE", help="Settings file (default: ./migrate.toml, or $MIGRATE_CONFIG).")] = None,
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", metavar="DIR", help="State database, files and reports (default: $MIGRATE_WORKDIR or ./migration).")] = None,
    workspace: Annotated[str | None, typer.Option(
        "--workspace", metavar="NAME", help=WORKSPACE_HELP)] = None,
    json_output: Annotated[bool, typer.Option(
        "--json", help="Print one JSON document on stdout; human output goes to stderr.")] = False,
    verbose: Annotated[int, typer.Option(
        "-v", "--verbose", count=True, help="More detail: -v progress, -vv debug.")] = 0,
    traceback: Annotated[bool, typer.Option(
        "--traceback", help="Show the Python traceback of an error.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    _TRACEBACK["on"] = _TRACEBACK["on"] or traceback
    setup_logging(verbose)
    ctx.obj = AppState(config=config, workdir=workdir,
                       out=Output(json_mode=json_output, verbose=verbose, traceback=traceback))
    if workspace:
        ctx.obj.flags["workspace"] = workspace


def state_of(ctx: typer.Context) -> AppState:
    return ctx.find_root().obj


# Global options are accepted before or after the command name (`migrate plan --json` is
# `migrate --json plan`): every command gets these keyword parameters too (so its --help
# lists them), and they update the AppState the group callback made.
_LATE: dict[str, tuple[Any, Any]] = {
    "late_json": (bool, typer.Option("--json", help="Print one JSON document on stdout; human output goes to stderr.")),
    "late_workdir": (Path | None, typer.Option("--workdir", metavar="DIR", help="State database, files and reports (default: $MIGRATE_WORKDIR or ./migration).")),
    "late_config": (Path | None, typer.Option("--config", metavar="FILE", help="Settings file (default: ./migrate.toml, or $MIGRATE_CONFIG).")),
    "late_verbose": (int, typer.Option("-v", "--verbose", count=True, help="More detail: -v progress, -vv library logs, -vvv debug.")),
    "late_traceback": (bool, typer.Option("--traceback", help="Show the Python traceback of an error (the exit code stays the same).")),
    "late_workspace": (str | None, typer.Option("--workspace", metavar="NAME", help=WORKSPACE_HELP)),
}
_LATE_DEFAULTS = {"late_json": False, "late_workdir": None, "late_config": None,
                  "late_verbose": 0, "late_traceback": False, "late_workspace": None}


def _apply_late(ctx: typer.Context, late: dict[str, Any]) -> None:
    state: AppState = state_of(ctx)
    if late["late_json"]:
        state.out.json_mode = True
    if late["late_workdir"] is not None:
        state.workdir = late["late_workdir"]
    if late["late_config"] is not None:
        state.config = late["late_config"]
    if late["late_verbose"]:
        state.out.verbose += late["late_verbose"]
        setup_logging(state.out.verbose)
    if late["late_traceback"]:
        state.out.traceback = True
        _TRACEBACK["on"] = True
    if late["late_workspace"]:
        state.flags["workspace"] = late["late_workspace"]
    state._settings = None


def command(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`app.command`, with the global options accepted after the command name too."""
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        command_name = kwargs.get("name") or fn.__name__.replace("_", "-")
        return app.command(*args, **kwargs)(with_global_options(fn, command_name))
    return register


def group(name: str, **kwargs: Any) -> Callable[[Callable[..., Any]], typer.Typer]:
    """A command with sub-commands (`migrate plan` and `migrate plan diff`): `fn` runs when
    no sub-command is named; the global options are accepted after its name too. Returns the
    sub-app, whose `.command` registers the sub-commands (wrap them in with_global_options)."""
    def register(fn: Callable[..., Any]) -> typer.Typer:
        sub = typer.Typer(invoke_without_command=True, **kwargs)
        sub.callback()(with_global_options(fn, name))
        app.add_typer(sub, name=name)
        return sub
    return register


def with_global_options(fn: Callable[..., Any], command_name: str) -> Callable[..., Any]:
    """`fn` with the global options as its own keyword parameters too (so `migrate plan --json`
    is `migrate --json plan` and `--help` lists them), and the fan-out to several workspaces."""
    signature = inspect.signature(fn, eval_str=True)
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                               default=_LATE_DEFAULTS[name], annotation=Annotated[kind, option])
             for name, (kind, option) in _LATE.items()]

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        late = {name: kw.pop(name, _LATE_DEFAULTS[name]) for name in _LATE}
        ctx = kw.get("ctx") or next(x for x in a if isinstance(x, typer.Context))
        _apply_late(ctx, late)
        _fan_out_if_several_workspaces(ctx, command_name)
        return fn(*a, **kw)

    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
              if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD else p
              for p in signature.parameters.values()]
    wrapper.__signature__ = signature.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**{p.name: p.annotation for p in params},
                               **{p.name: p.annotation for p in extra}}
    return wrapper


def _fan_out_if_several_workspaces(ctx: typer.Context, command_name: str) -> None:
    """With [[workspaces]] and none chosen, this command runs once per workspace, side by
    side (migrate/grid/fanout.py), and ends with their exit code."""
    from migrate.grid.fanout import FANS_OUT, fan_out

    if command_name not in FANS_OUT or ctx.invoked_subcommand:   # `plan diff` reads files
        return
    state = state_of(ctx)
    settings = state.settings()
    state._settings = None      # the command's own options are not applied yet: read again
    if not settings.fans_out:
        return
    argv = list(_ARGV["argv"] if _ARGV["argv"] is not None else sys.argv[1:])
    raise typer.Exit(fan_out(settings, command_name, argv, err=sys.stderr,
                             json_mode=state.out.json_mode))


_ARGV: dict[str, list[str] | None] = {"argv": None}


def _plain_flags(group: Any) -> Any:
    """Flags (--yes, --json) and counters (-v) take no value: show no `<bool>`/`<int>` type
    beside them in --help."""
    for cmd in [group, *getattr(group, "commands", {}).values()]:
        # --help is made by click apart from the params, when help is asked for.
        make_help = getattr(cmd, "get_help_option", None)
        if make_help is not None and not getattr(cmd, "_plain_help", False):
            def plain_help(ctx: Any, _make: Any = make_help) -> Any:
                option = _make(ctx)
                if option is not None:
                    option.metavar = ""
                return option
            cmd.get_help_option = plain_help
            cmd._plain_help = True
        for param in getattr(cmd, "params", []):
            if getattr(param, "is_flag", False) or getattr(param, "count", False):
                param.metavar = ""
        if cmd is not group and getattr(cmd, "commands", None):
            _plain_flags(cmd)
    return group


def _show_traceback() -> None:
    import traceback

    traceback.print_exc(file=sys.stderr)


def operator_problem(exc: BaseException) -> str | None:
    """A failure of the machine, not of migrate (a read-only or full disk, a path that is a
    file): one line naming the path and the cause, or None when it is something else."""
    import errno
    import sqlite3

    hints = {errno.EACCES: "give this user write access, or choose another --workdir",
             errno.EPERM: "give this user write access, or choose another --workdir",
             errno.EROFS: "the file system is read-only: choose another --workdir",
             errno.ENOSPC: "free some space (the state and files need it) and run again: "
                           "the next run resumes",
             errno.EDQUOT: "the disk quota is used up: free some space and run again",
             errno.ENOTDIR: "a part of the path is a file, not a folder: fix --workdir",
             errno.EEXIST: "a file is in the way of a folder: fix --workdir"}
    if isinstance(exc, OSError) and exc.errno in hints:
        where = exc.filename or _WORKDIR.get("path") or "the working directory"
        return f"{where}: {exc.strerror} ({hints[exc.errno]})"
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        db = f"{_WORKDIR.get('path') or '.'}/state.db"
        if "disk is full" in text or "disk i/o error" in text:
            return (f"{db}: the disk is full or failing ({exc}) (free some space and run "
                    "again: the ledger is consistent and the next run resumes)")
        if "readonly" in text or "unable to open" in text:
            return f"{db}: cannot write the state database ({exc}) (give this user write access, or choose another --workdir)"
    return None


def run_app(argv: list[str] | None = None) -> None:
    """Run the app (its commands registered by importing migrate.cli), map errors to exit codes."""
    # Private by default: the working directory holds private channels' text; whatever the
    # shell's umask, what migrate creates is readable by this user only (0600 / 0700).
    os.umask(0o077)
    _ARGV["argv"] = list(argv) if argv is not None else None
    command = _plain_flags(typer.main.get_command(app))
    try:
        # Outside standalone mode click returns the code of a typer.Exit instead of exiting.
        code = command.main(args=argv, prog_name="migrate", standalone_mode=False)
    except MigrateError as exc:
        # --traceback adds the traceback; the line, its hint and the exit code stay.
        if _TRACEBACK["on"]:
            _show_traceback()
        print_error(exc.one_line())
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print_error("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if exc.exit_code == 2 else exc.exit_code)
    except KeyboardInterrupt:
        print_error("interrupted; the next run resumes where this one stopped")
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, keep the traceback behind a flag
        if _TRACEBACK["on"]:
            _show_traceback()
        problem = operator_problem(exc)
        if problem is not None:   # the machine's, not a bug: the operator fixes it (exit 2)
            print_error(problem)
            sys.exit(EXIT_USAGE)
        print_error(f"internal error: {type(exc).__name__}: {exc} (rerun with --traceback "
                    "and report it)")
        sys.exit(EXIT_BUG)
    if code == 130:  # typer turns Ctrl-C into exit code 130 outside standalone mode
        print_error("interrupted; the next run resumes where this one stopped")
    sys.exit(code if isinstance(code, int) else 0)
