"""Shared helpers: run a worker in a fresh process, read its peak RSS, format numbers."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Child:
    """One finished worker process."""

    wall_s: float  # from just before spawning to its exit
    max_rss_bytes: int  # the child's own peak resident set size
    output: Any  # the JSON it printed last on stdout (None if nothing)
    started_at: float  # time.time() just before spawning


def run_child(module: str, *args: str, env: dict[str, str] | None = None) -> Child:
    """Run ``python -m module args`` from the project root; time it and read its peak RSS."""
    cmd = [sys.executable, "-m", module, *args]
    started_at = time.time()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be a running max).
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode(errors='replace')[-4000:]}"
        )
    lines = [line for line in out.decode().splitlines() if line.strip()]
    payload = json.loads(lines[-1]) if lines else None
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return Child(wall_s=wall, max_rss_bytes=rss, output=payload, started_at=started_at)


def emit(payload: Any) -> None:
    """A worker's result: one JSON line on stdout."""
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def median(values: list[float]) -> float:
    return statistics.median(values)


def secs(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def machine() -> str:
    """One line describing where the numbers came from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        import psutil

        mem = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
