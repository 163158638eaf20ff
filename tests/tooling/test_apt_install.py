"""scripts/apt-install waits for another apt process instead of failing.

A fake ``apt-get`` first on PATH stands in for Debian's: it reports the lock
as held for its first calls, the way apt does while another process runs.
"""

import os
import stat
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "apt-install"

FAKE_APT = """#!/usr/bin/env bash
echo "$*" >> "$CALLS"
n=$(wc -l < "$CALLS")
if [ "$n" -le "$BUSY_CALLS" ]; then
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
  exit 100
fi
[ -n "${FAIL_WITH:-}" ] && { echo "$FAIL_WITH" >&2; exit 100; }
exit 0
"""


def _run(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "apt-get"
    fake.write_text(FAKE_APT)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls"
    calls.touch()
    result = subprocess.run(
        [str(SCRIPT), "chromium"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "CALLS": str(calls),
            "APT_LOCK_POLL": "0",
            "APT_SUDO": "",
            **env,
        },
    )
    return result, calls.read_text().splitlines()


def test_waits_while_another_apt_holds_the_lock_then_installs(tmp_path):
    result, calls = _run(tmp_path, BUSY_CALLS="3")

    assert result.returncode == 0, result.stderr
    assert "waiting for its lock" in result.stderr
    assert calls[:3] == ["-o DPkg::Lock::Timeout=600 update -qq"] * 3
    assert calls[-1] == "-o DPkg::Lock::Timeout=600 install -y -qq chromium"


def test_other_apt_errors_fail_at_once_with_apt_s_message(tmp_path):
    result, calls = _run(
        tmp_path, BUSY_CALLS="0", FAIL_WITH="E: Unable to locate package chromium"
    )

    assert result.returncode == 1
    assert "Unable to locate package chromium" in result.stderr
    assert len(calls) == 1


def test_gives_up_with_apt_s_message_once_the_wait_is_over(tmp_path):
    result, calls = _run(tmp_path, BUSY_CALLS="1000", APT_LOCK_WAIT="0")

    assert result.returncode == 1
    assert "Could not get lock" in result.stderr
    assert len(calls) == 1
