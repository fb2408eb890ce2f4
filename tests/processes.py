"""Run child processes side by side, and always collect them.

``run_together`` starts every command, waits for all of them and returns their outcomes; whatever
goes wrong (a timeout, an exception, an interrupt) every child is killed, waited for and its pipes
closed before the error propagates, so no process or file outlives the test (an unclosed pipe is a
ResourceWarning, which this suite turns into an error in some later, unrelated test).

``on_terminal`` runs a command whose stderr is a pseudo-terminal and returns what was drawn there.

``barrier_hook`` makes a bare repository hold every push in its pre-receive hook until ``parties``
pushes have arrived: racing writers then really push on top of the same tip, and all but one
are rejected, which forces the retry a race test wants to see.
"""

from __future__ import annotations

import contextlib
import os
import pty
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Finished:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"{' '.join(self.argv)} -> {self.returncode}\n{self.stdout}\n{self.stderr}"


def run_together(
    commands: Sequence[Sequence[str]],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> list[Finished]:
    """Start every command at once; wait for all; return their outcomes in order."""
    processes: list[subprocess.Popen[str]] = []
    try:
        for argv in commands:
            processes.append(
                subprocess.Popen(
                    list(argv),
                    env=None if env is None else dict(env),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        results = []
        for argv, process in zip(commands, processes, strict=False):
            stdout, stderr = process.communicate(timeout=timeout)
            results.append(Finished(tuple(argv), process.returncode, stdout, stderr))
        return results
    finally:
        for process in processes:
            reap(process)


def reap(process: subprocess.Popen[str]) -> None:
    """Kill the process if it still runs, wait for it, close its pipes. Idempotent."""
    if process.poll() is None:
        process.kill()
    with contextlib.suppress(Exception):
        process.communicate(timeout=30)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    process.wait()


BARRIER_HOOK = """#!/bin/sh
# Hold each push until {parties} have arrived (at most {seconds} s), then let git decide.
cat >/dev/null
mkdir -p arrivals && touch "arrivals/$$"
i=0
while [ "$(ls arrivals | wc -l)" -lt {parties} ] && [ $i -lt {ticks} ]; do
  sleep 0.1; i=$((i + 1))
done
"""


def barrier_hook(bare_repository: Path, *, parties: int = 2, seconds: int = 120) -> Path:
    """Install the pre-receive barrier in a bare repository; return the hook's path."""
    hook = bare_repository / "hooks" / "pre-receive"
    hook.write_text(BARRIER_HOOK.format(parties=parties, seconds=seconds, ticks=seconds * 10))
    hook.chmod(0o755)
    return hook


def pushes_arrived(bare_repository: Path) -> int:
    """How many pushes reached the barrier hook."""
    arrivals = bare_repository / "arrivals"
    return len(list(arrivals.iterdir())) if arrivals.is_dir() else 0


def on_terminal(
    argv: Sequence[str], *, env: Mapping[str, str], timeout: float = 120
) -> tuple[subprocess.CompletedProcess[bytes], bytes]:
    """Run ARGV with stdout piped and stderr on a new pseudo-terminal; (result, bytes drawn)."""
    controller, terminal = pty.openpty()
    try:
        try:
            result = subprocess.run(
                list(argv), stdout=subprocess.PIPE, stderr=terminal, env={**env, "TERM": "xterm"},
                timeout=timeout, check=False,
            )  # fmt: skip
        finally:
            os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal side is closed and everything was read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    return result, drawn
