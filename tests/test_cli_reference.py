"""docs/cli.md is generated from the live command tree (migrate/ui/cli_reference.py) and must
match it: a command or option added, renamed or re-worded without regenerating the page fails
here, with the command that regenerates it."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys

import pytest

from migrate.ui.app import _LATE
from migrate.ui.cli_reference import REGENERATE, render, root_command

from .conftest import ROOT

PAGE = ROOT / "docs" / "cli.md"


def _out_of_date(expected: str, actual: str) -> str:
    diff = list(difflib.unified_diff(actual.splitlines(), expected.splitlines(),
                                     "docs/cli.md", "generated", lineterm="", n=1))
    shown = "\n".join(diff[:60]) + ("\n…" if len(diff) > 60 else "")
    return (f"docs/cli.md is out of date with the commands; regenerate it from the checkout "
            f"root with:\n\n    {REGENERATE}\n\nand commit it. Difference:\n{shown}")


def test_docs_cli_md_is_what_the_generator_prints():
    assert PAGE.is_file(), f"docs/cli.md is missing; create it with: {REGENERATE}"
    expected = render()
    actual = PAGE.read_text(encoding="utf-8")
    if actual != expected:
        pytest.fail(_out_of_date(expected, actual), pytrace=False)


def test_the_regenerate_command_prints_the_page():
    """The command the failure message names works as written, in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIGRATE_", "_TYPER_"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-m", "migrate.ui.cli_reference"], cwd=ROOT,
                            capture_output=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode("utf-8") == render()


def test_every_command_and_option_is_in_the_page():
    """Each command has its section, with its own options; the global ones are listed once."""
    page = render()
    root = root_command()
    globals_section = page.split("## Global options", 1)[1].split("\n## ", 1)[0]
    for param in root.params:
        for name in param.opts:
            assert f"`{name}`" in globals_section
    sections = page.split("\n## `")
    for name, cmd in root.commands.items():
        section = next((s for s in sections if s.startswith(f"migrate {name}`")), None)
        assert section is not None, f"no section for migrate {name}"
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        for param in cmd.params:
            if param.param_type_name == "argument":
                continue
            row = f"| `{param.opts[0]}`"
            if param.name in _LATE:    # global: listed once, not under each command
                assert not any(r.startswith(row + " ") for r in rows), f"{row} under {name}"
            else:
                assert any(r.startswith(row) for r in rows), f"{param.opts[0]} missing under {name}"


def test_the_readme_links_the_page():
    assert "](docs/cli.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
