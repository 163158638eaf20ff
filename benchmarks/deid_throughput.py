"""Measure ``manage.py deidentify`` throughput on generated CT files.

Run: ``.venv/bin/python benchmarks/deid_throughput.py [--count 500] [--size 512]``.

Generates ``--count`` CT images (``--size`` squared, 16-bit, every identifier
of the test factory planted, nested sequences and private tags included) in a
temporary folder, then times, on the same files:

- the ceiling: pydicom reading and writing each file, nothing else;
- the ``deidentify`` command itself (``call_command``), end to end: folder
  walk, content sniffing, PS3.15 profile, keyed UIDs, atomic writes.

Prints files/s and MB/s for both, by wall clock and by CPU time of this
process (the CPU figure holds on a machine shared with other work), and
checks that the command cleaned every file and left none of the planted
values in the output. Bounded: one pass each, one process, temporary files
removed at the end.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
import warnings
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workspace.settings")


def _generate(folder: Path, count: int, size: int) -> int:
    from tests.fixtures.dicom_factory import make_ct_series, write

    written = 0
    per_series = 100
    for start in range(0, count, per_series):
        batch = min(per_series, count - start)
        for index, ds in enumerate(make_ct_series(batch, rows=size, cols=size)):
            path = write(ds, folder / f"series{start // per_series}" / f"{index}.dcm")
            written += path.stat().st_size
    return written


def _ceiling(src: Path, dst: Path) -> tuple[float, float]:
    """(wall, CPU) seconds for pydicom to read and write every file."""
    import pydicom

    files = sorted(src.rglob("*.dcm"))
    dst.mkdir()
    wall, cpu = time.perf_counter(), time.process_time()
    for index, path in enumerate(files):
        ds = pydicom.dcmread(path)
        ds.save_as(dst / f"{index}.dcm", enforce_file_format=True)
    return time.perf_counter() - wall, time.process_time() - cpu


def _command(src: Path, dst: Path) -> tuple[float, float, str]:
    """(wall, CPU) seconds of the command, and what it printed."""
    from django.core.management import call_command

    out = io.StringIO()
    wall, cpu = time.perf_counter(), time.process_time()
    with redirect_stdout(out):
        call_command("deidentify", str(src), "--out", str(dst), stdout=out)
    return time.perf_counter() - wall, time.process_time() - cpu, out.getvalue()


def _rate(count: int, mb: float, wall: float, cpu: float) -> str:
    return (
        f"{count / wall:7.1f} files/s ({mb / wall:.0f} MB/s) wall, "
        f"{count / cpu:7.1f} files per CPU-second"
    )


def _leaks(dst: Path) -> list[str]:
    from tests.fixtures.dicom_factory import PLANTED

    needles = {value.encode() for value in PLANTED.values() if len(value) >= 6}
    found = []
    for path in dst.rglob("*.dcm"):
        data = path.read_bytes()
        found.extend(f"{path.name}: {n.decode()}" for n in needles if n in data)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--size", type=int, default=512, help="rows = columns")
    args = parser.parse_args()

    import django

    django.setup()
    warnings.simplefilter("ignore", UserWarning)
    root = Path(tempfile.mkdtemp(prefix="deid-bench-"))
    try:
        src = root / "in"
        began = time.perf_counter()
        total = _generate(src, args.count, args.size)
        mb = total / 1024**2
        print(
            f"generated {args.count} CT files of {args.size}x{args.size} "
            f"({mb:.0f} MB) in {time.perf_counter() - began:.1f}s"
        )
        wall, cpu = _ceiling(src, root / "ceiling")
        print(f"pydicom read+write only: {_rate(args.count, mb, wall, cpu)}")
        wall, cpu, output = _command(src, root / "out")
        cleaned = sum(1 for line in output.splitlines() if line.startswith("cleaned "))
        print(f"deidentify command:      {_rate(args.count, mb, wall, cpu)}")
        print(f"cleaned {cleaned}/{args.count} in {wall:.1f}s")
        leaks = _leaks(root / "out")
        print(f"planted values left in the output: {len(leaks)}")
        for leak in leaks[:10]:
            print(f"  {leak}")
        return 0 if cleaned == args.count and not leaks else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
