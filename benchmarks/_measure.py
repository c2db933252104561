"""Timing helpers: a function's wall time, and a command's wall time with the peak memory of its whole
process tree."""

from __future__ import annotations

import subprocess
import threading
import time

import psutil


def timed(fn):
    """(seconds, result) of calling `fn`."""
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def run_measured(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB summed over the process tree, stdout) of one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                total = sum(p.memory_info().rss for p in procs if p.is_running())
                peak = max(peak, total / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    done.set()
    t.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{err[-3000:]}")
    return time.perf_counter() - started, peak, out
