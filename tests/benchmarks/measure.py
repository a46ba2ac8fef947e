"""Measuring a child process for the benchmark scripts: wall time, exit status, peak RSS and
CPU, from wait4. Caveat: Linux carries a parent's high-water RSS at fork() into the child's
ru_maxrss, so the parent must stay smaller than what it measures (these benchmarks' parents
only start processes and read small outputs; scale_bench.py reads VmHWM instead)."""

from __future__ import annotations

import os
import signal
import subprocess
import time


def run_measured(cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None,
                 *, quiet: bool = False) -> tuple[float, int, int, float]:
    """(seconds, exit status, peak RSS in bytes, CPU seconds) of `cmd`; past `timeout` it is
    interrupted (SIGINT) and measured as it stands. `quiet` discards its stderr."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL if quiet else None)
    deadline = started + timeout if timeout else None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline and time.monotonic() > deadline:
            proc.send_signal(signal.SIGINT)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    return (time.monotonic() - started, os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024,
            usage.ru_utime + usage.ru_stime)
