"""The CLI reference (docs/cli.md), generated from the live command tree: every command, its
help, its arguments and options (name, value, default, help), and the global options once.

    python -m migrate.ui.cli_reference > docs/cli.md

tests/test_cli_reference.py fails when docs/cli.md differs from what this prints, so whoever
adds or changes a command or an option regenerates it with the line above.

Only the plain attributes of click/typer parameters are read (names, metavar, default, help),
not their help formatting, so the page does not change with the terminal or typer's renderer."""

from __future__ import annotations

import enum
import re
import sys
from pathlib import PurePath
from typing import Any

REGENERATE = "python -m migrate.ui.cli_reference > docs/cli.md"
PROG = "migrate"

# A type shown as its value when an option has no metavar (the names click gives them).
_TYPE_NAMES = {int: "INTEGER", float: "FLOAT", str: "TEXT", bool: "BOOLEAN"}


def root_command() -> Any:
    """The click group `migrate` runs, with every command registered."""
    import typer

    import migrate.cli  # noqa: F401  (registers the commands on the app)
    from migrate.ui.app import app

    return typer.main.get_command(app)


def _late_names() -> set[str]:
    """Parameter names of the global options every command accepts after its name too."""
    from migrate.ui.app import _LATE

    return set(_LATE)


# --- text -------------------------------------------------------------------------------------

def _escape(text: str) -> str:
    """Markdown text: `<` outside code spans would be read as an HTML tag."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):      # outside backticks
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _cell(text: str) -> str:
    return _escape(" ".join(text.split())).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _paragraphs(text: str | None) -> list[str]:
    """Help text as paragraphs (blank lines separate them; lines inside one are joined)."""
    if not text:
        return []
    text = text.replace("\b", "")
    return [_escape(" ".join(block.split())) for block in re.split(r"\n\s*\n", text.strip())
            if block.strip()]


def _summary(cmd: Any) -> str:
    text = cmd.short_help or " ".join((cmd.help or "").split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


# --- parameters -------------------------------------------------------------------------------

def _is_argument(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _is_plain_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False) or getattr(param, "count", False))


def _choices(param: Any) -> list[str] | None:
    kind = getattr(param, "type", None)                 # click's parameters
    if kind is not None and getattr(kind, "choices", None):
        return [getattr(c, "value", c) for c in kind.choices]
    descriptor = getattr(param, "type_descriptor", None)  # typer's own (≥ 0.24)
    annotation = getattr(descriptor, "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    return None


def _type_name(param: Any) -> str:
    kind = getattr(param, "type", None)
    if kind is not None and getattr(kind, "name", None):
        return str(kind.name).upper()
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type):
        if issubclass(annotation, PurePath):
            return "PATH"
        return _TYPE_NAMES.get(annotation, annotation.__name__.upper())
    return "TEXT"


def _value(param: Any) -> str:
    """What follows the option: nothing for a flag, else its metavar, choices or type."""
    if _is_plain_flag(param):
        return ""
    if getattr(param, "metavar", None):
        return str(param.metavar)
    choices = _choices(param)
    if choices:
        return "|".join(choices)
    if _is_argument(param):
        return param.name.upper()
    return _type_name(param)


def _show(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value)
    return str(value)


def _default(param: Any) -> str:
    if getattr(param, "required", False):
        return "required"
    if getattr(param, "show_default", True) is False or _is_plain_flag(param):
        return ""
    value = param.default
    if value is None or callable(value) or value == () or value == []:
        return ""
    return _show(value)


def _help(param: Any) -> str:
    text = getattr(param, "help", None) or ""
    if getattr(param, "multiple", False) and "repeatable" not in text.lower():
        text = f"{text} (repeatable)" if text else "Repeatable."
    if getattr(param, "envvar", None):
        names = param.envvar if isinstance(param.envvar, (list, tuple)) else [param.envvar]
        text += " (environment: " + ", ".join(f"`{n}`" for n in names) + ")"
    return text


def _names(param: Any) -> str:
    return ", ".join(_code(name) for name in [*param.opts, *param.secondary_opts])


def _visible(params: list[Any]) -> list[Any]:
    return [p for p in params if not getattr(p, "hidden", False)]


def _options_table(params: list[Any]) -> list[str]:
    lines = ["| option | value | default | help |", "|---|---|---|---|"]
    for param in params:
        lines.append(f"| {_names(param)} | {_cell(_code(_value(param)))} | "
                     f"{_cell(_code(_default(param)))} | {_cell(_help(param))} |")
    return lines


def _arguments_table(params: list[Any]) -> list[str]:
    lines = ["| argument | default | help |", "|---|---|---|"]
    for param in params:
        lines.append(f"| {_code(_value(param))} | {_cell(_code(_default(param)))} | "
                     f"{_cell(_help(param))} |")
    return lines


def _usage(path: list[str], cmd: Any, own: list[Any]) -> str:
    pieces = [PROG, "[GLOBAL OPTIONS]", *path[1:]]
    if any(not _is_argument(p) for p in own):
        pieces.append("[OPTIONS]")
    for param in own:
        if _is_argument(param):
            name = _value(param) + ("..." if getattr(param, "nargs", 1) == -1 else "")
            pieces.append(name if param.required else f"[{name}]")
    if getattr(cmd, "commands", None):     # a group: `plan diff`, say
        optional = getattr(cmd, "invoke_without_command", False)
        pieces.append("[COMMAND [ARGS]...]" if optional else "COMMAND [ARGS]...")
    return " ".join(pieces)


# --- the page ---------------------------------------------------------------------------------

def _commands(group: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    """Every visible command under `group`, depth first, in the order `--help` lists them."""
    found = []
    for name, cmd in getattr(group, "commands", {}).items():
        if getattr(cmd, "hidden", False):
            continue
        found.append(([*path, name], cmd))
        found.extend(_commands(cmd, [*path, name]))
    return found


def _anchor(path: list[str]) -> str:
    return "-".join(path)


def render(root: Any | None = None) -> str:
    """docs/cli.md, from the command tree (`root_command()` unless given)."""
    root = root if root is not None else root_command()
    late = _late_names()
    commands = _commands(root, [PROG])
    after_too = {tuple(p.opts) for _path, cmd in commands for p in cmd.params if p.name in late}
    help_names = (root.context_settings or {}).get("help_option_names", ["--help"])

    out = ["# `migrate` command-line reference", "",
           f"<!-- Generated from the commands by `{REGENERATE}`; do not edit by hand. -->", ""]
    out += [*(p + "\n" for p in _paragraphs(root.help))]
    out += [f"Usage: `{PROG} [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]...`", "",
            "Exit codes, configuration and environment variables are described in the "
            "[README](../README.md#configuration).", ""]

    out += ["## Commands", "", "| command | what it does |", "|---|---|"]
    for path, cmd in commands:
        out.append(f"| [`{' '.join(path[1:])}`](#{_anchor(path)}) | {_cell(_summary(cmd))} |")
    out.append("")

    out += ["## Global options", "",
            "Accepted before the command name (`migrate --json plan`); those marked *after too* "
            "are also accepted after it (`migrate plan --json`), and mean the same.", "",
            "| option | value | default | where | help |", "|---|---|---|---|---|"]
    for param in _visible(root.params):
        where = "after too" if tuple(param.opts) in after_too else "before"
        out.append(f"| {_names(param)} | {_cell(_code(_value(param)))} | "
                   f"{_cell(_code(_default(param)))} | {where} | {_cell(_help(param))} |")
    out.append(f"| {', '.join(_code(n) for n in help_names)} |  |  | after too | "
               "Show the help of `migrate` or of a command, and exit. |")
    out.append("")

    for path, cmd in commands:
        own = [p for p in _visible(cmd.params) if p.name not in late]
        out += [f"## `{' '.join(path)}`", ""]
        out += [*(p + "\n" for p in _paragraphs(cmd.help))]
        out += [f"Usage: `{_usage(path, cmd, own)}`", ""]
        arguments = [p for p in own if _is_argument(p)]
        options = [p for p in own if not _is_argument(p)]
        if arguments:
            out += ["Arguments:", "", *_arguments_table(arguments), ""]
        if options:
            out += ["Options:", "", *_options_table(options), ""]
        elif not arguments:
            out += ["No options of its own (the global options apply).", ""]
        if getattr(cmd, "commands", None):
            subs = [name for name, sub in cmd.commands.items() if not getattr(sub, "hidden", False)]
            out += ["Commands: " + ", ".join(f"[`{name}`](#{_anchor([*path, name])})"
                                             for name in subs), ""]
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def main() -> None:
    sys.stdout.buffer.write(render().encode("utf-8"))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
