"""The runner: raw bytes in the log, printable text in messages, secrets in neither."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pkgindex.errors import BuildError
from pkgindex.process import Runner

NOISY = (
    "import sys; out = sys.stdout.buffer; "
    "out.write(b'remote: \\x1b[31mdenied\\x1b[0m\\x00 for https://ci:hunter2-secret@h/x\\r\\n'); "
    "out.write(b'token ghs_abcdefghijk \\xff\\xfe end\\n'); sys.exit(3)"
)


def test_messages_are_printable_and_logs_keep_the_bytes(tmp_path: Path) -> None:
    runner = Runner(
        log_dir=tmp_path / "logs", redact=("hunter2-secret",), base_env={"PATH": "/usr/bin",
        "GITHUB_TOKEN": "ghs_abcdefghijk"},
    )  # fmt: skip
    with pytest.raises(BuildError) as error:
        runner.check(
            [sys.executable, "-c", NOISY], step="noisy", error=BuildError, message="it failed"
        )
    message = error.value.message
    assert "(exit status 3)" in message
    assert "    remote: denied for https://***@h/x\n" in message
    assert "    token *** \ufffd\ufffd end\n" in message
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in message)
    [log] = (tmp_path / "logs").glob("*-noisy.log")
    raw = log.read_bytes()
    assert raw == (
        b"remote: \x1b[31mdenied\x1b[0m\x00 for https://***@h/x\r\ntoken *** \xff\xfe end\n"
    )


def test_the_sandbox_is_what_the_command_sees(tmp_path: Path) -> None:
    runner = Runner(
        log_dir=tmp_path / "logs",
        base_env={"PATH": "/usr/bin:/bin", "INDEX_PUSH_TOKEN": "x" * 12, "MPI_HOME": "/opt"},
        pass_env=("MPI_HOME",),
    )
    code = "import os; print(sorted(os.environ))"
    seen = runner.run([sys.executable, "-c", code], step="env", env={"EXTRA": "1"}).output
    assert "'INDEX_PUSH_TOKEN'" not in seen
    assert "'MPI_HOME'" in seen and "'EXTRA'" in seen and "'PATH'" in seen
    everything = runner.run([sys.executable, "-c", code], step="env", credentials=True).output
    assert "'INDEX_PUSH_TOKEN'" in everything
