"""Shell completion, as a user gets it: `migrate --show-completion` prints a script for the
shell it runs in, `--install-completion` installs it, and the script, sourced by a real bash,
completes `migrate pl` to `plan`. Completion is typer's own (click 8's `_MIGRATE_COMPLETE`
protocol, in typer's `complete_<shell>` spelling)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, run_migrate

BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")

# typer detects the shell it runs in (shellingham); with this variable set it takes the shell
# as the option's value instead (`--show-completion zsh`), which lets a test ask for each one.
NAMED_SHELL = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def _on_path(tmp_path: Path) -> dict[str, str]:
    """An environment where `migrate` on PATH is this checkout (the completion scripts call
    `migrate` by name), without the developer's MIGRATE_* variables or shell start-up files."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "migrate"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m migrate "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MIGRATE_", "_MIGRATE_", "_TYPER_")) and k not in ("BASH_ENV", "ENV")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT),
               HOME=str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return env


def _bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BASH, "--norc", "--noprofile", "-c", script], capture_output=True,
                          text=True, env=env, timeout=60)


def _complete(words: str, cword: int) -> list[str]:
    """What `migrate` answers when bash asks it to complete `words` at word `cword`."""
    result = run_migrate(env={"_MIGRATE_COMPLETE": "complete_bash", "COMP_WORDS": words,
                              "COMP_CWORD": str(cword)})
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_global_options_list_completion():
    result = run_migrate("--help", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "--install-completion" in result.stdout
    assert "--show-completion" in result.stdout


def test_a_command_name_completes():
    assert _complete("migrate pl", 1) == ["plan"]
    every = _complete("migrate ", 1)
    assert {"init", "doctor", "export", "plan", "run", "sync", "verify", "status"} <= set(every)


def test_an_option_after_the_command_completes():
    assert "--json" in _complete("migrate plan --js", 2)
    assert "--dry-run" in _complete("migrate run --dry", 2)


@pytest.mark.parametrize(("shell", "marker"), [
    ("bash", "complete -o default -F _migrate_completion migrate"),
    ("zsh", "compdef _migrate_completion migrate"),
    ("fish", "complete --command migrate"),
])
def test_show_completion_prints_the_script_of_the_named_shell(shell, marker):
    result = run_migrate("--show-completion", shell, env=NAMED_SHELL)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout
    assert "_MIGRATE_COMPLETE=complete_" + shell in result.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_script_of_a_named_shell_without_detection(shell):
    """The README's fallback where the shell cannot be detected: _MIGRATE_COMPLETE=source_SHELL."""
    result = run_migrate(env={"_MIGRATE_COMPLETE": f"source_{shell}"})
    assert result.returncode == 0, result.stderr
    assert f"_MIGRATE_COMPLETE=complete_{shell}" in result.stdout


def test_zsh_and_fish_complete_a_command_name():
    zsh = run_migrate(env={"_MIGRATE_COMPLETE": "complete_zsh",
                           "_TYPER_COMPLETE_ARGS": "migrate pl"})
    assert zsh.returncode == 0 and '"plan"' in zsh.stdout, zsh.stdout + zsh.stderr
    fish = run_migrate(env={"_MIGRATE_COMPLETE": "complete_fish",
                            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
                            "_TYPER_COMPLETE_ARGS": "migrate pl"})
    assert fish.returncode == 0 and fish.stdout.startswith("plan\t"), fish.stdout + fish.stderr


@needs_bash
def test_in_bash_the_shown_script_completes_plan(tmp_path):
    """As a user: in bash, `migrate --show-completion` (the shell detected), then the script
    sourced and bash's completion function called for `migrate pl`."""
    env = _on_path(tmp_path)
    script = tmp_path / "migrate-completion.bash"
    shown = _bash(f"migrate --show-completion > '{script}'; echo shown", env)
    assert shown.returncode == 0, shown.stderr
    assert "_migrate_completion" in script.read_text()

    completed = _bash(f"source '{script}'; COMP_WORDS=(migrate pl); COMP_CWORD=1; "
                      '_migrate_completion migrate; printf "<%s>\\n" "${COMPREPLY[@]}"', env)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["<plan>"]


@needs_bash
def test_install_completion_in_bash(tmp_path):
    env = _on_path(tmp_path)
    installed = _bash("migrate --install-completion; echo installed", env)
    assert installed.returncode == 0, installed.stderr
    assert "bash completion installed in" in installed.stdout
    home = Path(env["HOME"])
    assert "_migrate_completion" in (home / ".bash_completions" / "migrate.sh").read_text()
    assert ".bash_completions/migrate.sh" in (home / ".bashrc").read_text()
