"""De-identification: ``manage.py deidentify`` against a peer tool and the
ceiling of its own stack, on the same generated files in the same run.

Inputs (generated here, every identifier planted by ``tests/fixtures``):

- a 500-file CT series, 512×512 16-bit, each file carrying every planted
  value of ``dicom_factory.PLANTED`` (patient, visit, study, equipment, free
  text, nested sequences, private blocks, overlays, SR text, file meta,
  preamble) and planted UIDs;
- 100 copies of one 12-megapixel phone JPEG (EXIF orientation 6, GPS,
  serials, owner, XMP, IPTC, JPEG comment, ICC profile).

Tools, each run as its own process, as a user would run it:

- ceiling: pydicom read + write of every file (DICOM), Pillow decode +
  re-encode at the same quality (JPEG) — what the stack costs with no
  cleaning at all (so it "leaves" every planted identifier);
- ``dicognito`` (``python -m dicognito -o OUT``), installed only into
  ``benchmarks/.venv-peers``;
- Consilium: ``manage.py deidentify IN --out OUT``.

Files per second are given for the whole command and after start-up:
``(n - 1)`` files over the time from the first output file to the last
(the output folder is watched), which leaves out the interpreter and import
cost that a long batch amortises. The inputs were just written, so every
tool reads them from the page cache. "Identifiers left" scans every output
file's bytes for every planted value: ``kinds`` is how many distinct planted
values survive somewhere, ``hits`` counts (file, value) pairs.

Run alone: ``.venv/bin/python -m benchmarks.deid [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import PYTHON, REPO, Table, fmt, log

PEERS = REPO / "benchmarks" / ".venv-peers"
PEER_PYTHON = PEERS / "bin" / "python"
DICOGNITO = "dicognito==0.19.0"

DICOM_FILES = 500
JPEG_FILES = 100
JPEG_SIZE = (4000, 3000)  # 12 megapixels

_PYDICOM_COPY = """
import sys, pathlib, pydicom
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for path in sorted(p for p in src.rglob("*") if p.is_file()):
    pydicom.dcmread(path).save_as(out / path.name)
"""
_PILLOW_COPY = """
import sys, pathlib
from PIL import Image
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for path in sorted(p for p in src.rglob("*") if p.is_file()):
    with Image.open(path) as image:
        image.load()
        image.save(out / path.name, format="JPEG", quality=90)
"""


# --- inputs ---------------------------------------------------------------------


def make_dicom_series(folder: Path, count: int) -> dict[str, str]:
    """Write ``count`` planted CT files; return the planted strings to look for."""
    sys.path.insert(0, str(REPO))
    from tests.fixtures import dicom_factory as factory

    folder.mkdir(parents=True)
    series = factory.make_ct_series(count, rows=512, cols=512)
    for index, ds in enumerate(series):
        factory.write(ds, folder / f"IM{index:05d}.dcm")
    planted = dict(factory.PLANTED)
    planted["planted UID root"] = factory._UID_ROOT
    return planted


def make_jpegs(folder: Path, count: int) -> dict[str, str]:
    sys.path.insert(0, str(REPO))
    import numpy as np
    from PIL import Image

    from tests.fixtures import media_factory as factory

    folder.mkdir(parents=True)
    width, height = JPEG_SIZE
    # Smooth noise (upscaled) compresses like a photo, not like static.
    rng = np.random.default_rng(12)
    small = rng.integers(0, 255, size=(height // 16, width // 16, 3), dtype=np.uint8)
    picture = Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)
    first = factory.write_jpeg(
        folder / "IMG_0000.jpg", orientation=6, displayed=picture
    )
    for index in range(1, count):
        shutil.copyfile(first, folder / f"IMG_{index:04d}.jpg")
    return dict(factory.PLANTED)


# --- tools ----------------------------------------------------------------------


def ensure_peers() -> str | None:
    """Install dicognito into its own venv; None when ready, else why not."""
    check = [str(PEER_PYTHON), "-c", "import dicognito"]
    if (
        PEER_PYTHON.exists()
        and subprocess.run(check, capture_output=True).returncode == 0
    ):
        return None
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    try:
        if shutil.which(uv) or Path(uv).exists():
            subprocess.run(
                [uv, "venv", "-q", "-p", str(PYTHON), str(PEERS)],
                check=True,
                capture_output=True,
                timeout=120,
            )
            subprocess.run(
                [uv, "pip", "install", "-q", "-p", str(PEER_PYTHON), DICOGNITO],
                check=True,
                capture_output=True,
                timeout=300,
            )
        else:
            subprocess.run(
                [sys.executable, "-m", "venv", str(PEERS)],
                check=True,
                capture_output=True,
                timeout=120,
            )
            subprocess.run(
                [str(PEER_PYTHON), "-m", "pip", "install", "-q", DICOGNITO],
                check=True,
                capture_output=True,
                timeout=300,
            )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not install {DICOGNITO} into {PEERS.name}: {exc}"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return f"{DICOGNITO} did not import after installing"
    return None


def _command(tool: str, src: Path, out: Path) -> list[str]:
    if tool == "pydicom":
        return [str(PYTHON), "-c", _PYDICOM_COPY, str(src), str(out)]
    if tool == "pillow":
        return [str(PYTHON), "-c", _PILLOW_COPY, str(src), str(out)]
    if tool == "dicognito":
        return [
            str(PEER_PYTHON),
            "-m",
            "dicognito",
            "--quiet",
            "-o",
            str(out),
            str(src),
        ]
    return [
        str(PYTHON),
        str(REPO / "manage.py"),
        "deidentify",
        str(src),
        "--out",
        str(out),
    ]


def _count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def _timed(
    tool: str, src: Path, out: Path, env: dict[str, str], timeout: float
) -> tuple[float, float | None]:
    """Run ``tool`` on ``src``; return the wall time and the steady rate.

    The steady rate watches ``out`` fill up: ``(n - 1)`` files over the time
    from the first output file to the last, which leaves out the start-up
    (interpreter, imports) that a long batch amortises.
    """
    out.mkdir(parents=True, exist_ok=True)
    expected = _count_files(src)
    first_at = last_at = None
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            _command(tool, src, out),
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )
        try:
            while proc.poll() is None:
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"{tool} timed out after {timeout:.0f}s")
                seen = _count_files(out)
                now = time.perf_counter()
                if seen and first_at is None:
                    first_at = now
                if seen >= expected and last_at is None:
                    last_at = now
                time.sleep(0.02)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
        elapsed = time.perf_counter() - started
        last_at = last_at or time.perf_counter()
        if proc.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{tool} exited {proc.returncode}: {' / '.join(tail)}")
    steady = None
    if first_at is not None and expected > 1 and last_at > first_at:
        steady = (expected - 1) / (last_at - first_at)
    return elapsed, steady


def leaks(out: Path, planted: dict[str, str]) -> dict:
    """Which planted values survive in the output files' bytes."""
    values = {name: value.encode() for name, value in planted.items()}
    hits, kinds, files = 0, set(), 0
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        files += 1
        data = path.read_bytes()
        for name, value in values.items():
            if value in data:
                hits += 1
                kinds.add(name)
    return {
        "files": files,
        "hits": hits,
        "kinds": sorted(kinds),
        "planted": len(values),
    }


def measure(
    tool: str, src: Path, work: Path, planted: dict, env: dict[str, str]
) -> dict:
    count = _count_files(src)
    out = work / f"{tool}-all"
    wall, steady = _timed(tool, src, out, env, timeout=900)
    found = leaks(out, planted)
    shutil.rmtree(out, ignore_errors=True)
    return {
        "tool": tool,
        "files": count,
        "outputs": found["files"],
        "wall_seconds": round(wall, 2),
        "files_per_second": round(count / wall, 1),
        "files_per_second_after_startup": round(steady, 1) if steady else None,
        "left_hits": found["hits"],
        "left_kinds": found["kinds"],
        "planted_kinds": found["planted"],
    }


def _env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        DJANGO_SETTINGS_MODULE="workspace.settings",
        CONSILIUM_VAR_DIR=str(work / "var"),
        PYTHONPATH=str(REPO),
        PYTHONWARNINGS="ignore",
    )
    return env


LABELS = {
    "pydicom": "ceiling: pydicom read+write, no cleaning",
    "pillow": "ceiling: Pillow decode+encode, no cleaning",
    "dicognito": f"dicognito {DICOGNITO.split('==')[1]}",
    "consilium": "Consilium deidentify",
}


def run(quick: bool = False) -> dict:
    dicom_count = 60 if quick else DICOM_FILES
    jpeg_count = 10 if quick else JPEG_FILES
    table = Table(
        "De-identification",
        [
            "input",
            "tool",
            "files",
            "wall s",
            "files/s",
            "files/s after start-up",
            "× ceiling",
            "identifiers left (kinds/planted, hits)",
        ],
    )
    data: dict = {"runs": []}
    work = Path(tempfile.mkdtemp(prefix="consilium-bench-deid-"))
    try:
        env = _env(work)
        log(f"deid: generating {dicom_count} DICOM files and {jpeg_count} JPEGs")
        started = time.perf_counter()
        dicom_planted = make_dicom_series(work / "dicom", dicom_count)
        jpeg_planted = make_jpegs(work / "jpeg", jpeg_count)
        data["generate_seconds"] = round(time.perf_counter() - started, 1)
        peer_problem = ensure_peers()
        plans = [
            (
                "DICOM CT 512×512",
                "dicom",
                dicom_planted,
                ["pydicom", "dicognito", "consilium"],
            ),
            ("JPEG 12 MP", "jpeg", jpeg_planted, ["pillow", "consilium"]),
        ]
        for label, kind, planted, tools in plans:
            ceiling = None
            for tool in tools:
                if tool == "dicognito" and peer_problem:
                    table.skip(label, f"{tool}: {peer_problem}")
                    continue
                log(f"deid: {kind} with {tool}")
                try:
                    result = measure(tool, work / kind, work, planted, env)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    table.add(label, LABELS[tool], f"error: {exc}")
                    continue
                result["input"] = kind
                data["runs"].append(result)
                if tool in ("pydicom", "pillow"):
                    ceiling = result
                rate = result["files_per_second_after_startup"]
                base = ceiling and ceiling["files_per_second_after_startup"]
                table.add(
                    label,
                    LABELS[tool],
                    result["files"],
                    result["wall_seconds"],
                    result["files_per_second"],
                    rate,
                    f"{rate / base:.2f}×" if rate and base else "–",
                    f"{len(result['left_kinds'])}/{result['planted_kinds']}, "
                    f"{fmt(result['left_hits'])}",
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for result in data["runs"]:
        if result["tool"] in ("dicognito", "consilium") and result["left_kinds"]:
            shown = ", ".join(result["left_kinds"][:12])
            more = len(result["left_kinds"]) - 12
            table.notes.append(
                f"{result['input']} / {LABELS[result['tool']]} left: {shown}"
                + (f" (+{more} more)" if more > 0 else "")
            )
    table.notes += [
        "× ceiling: files/s after start-up over the ceiling's (the same files "
        "read and written with no cleaning); 1.00× would mean cleaning is free",
        "identifiers left: distinct planted values found anywhere in the "
        "output bytes / values planted, then (file, value) hits; the ceiling "
        "row shows what was planted",
    ]
    return {"name": "deid", "tables": [table.as_dict()], "data": data}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    result = run(args.quick)
    for t in result["tables"]:
        print(Table(**t).render())
    print(json.dumps(result["data"], indent=1)[:3000])


if __name__ == "__main__":
    main()
