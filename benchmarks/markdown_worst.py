"""Worst-case Markdown rendering: CPU seconds per pathological input.

Usage: ``.venv/bin/python benchmarks/markdown_worst.py [--limit SECONDS] [NAME ...]``

Each input is rendered by ``workspace.markdown.render_markdown`` in a child
process of its own (so a catastrophic case cannot take the others down),
which reports the CPU time of the render; a child that has used ``--limit``
CPU seconds (default 60) is killed by ``RLIMIT_CPU`` and reported as ``>limit``.
CPU time, not wall time, so other load on the machine does not count.
Inputs are as long as the longest field they can reach: 20,000 characters
(case history, examination, investigations, working notes), 10,000
(messages, consult texts) or as given by the issue.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> Python expression of the input (evaluated in the child).
CORPUS: dict[str, str] = {
    "a.- x3334 (issue)": "'a.-' * 3334",
    "a.- x6667 (20k)": "'a.-' * 6667",
    "[ x10000 (issue)": "'[' * 10000",
    "[ x20000": "'[' * 20000",
    "* x10000": "'*' * 10000",
    "_ x10000": "'_' * 10000",
    "< x10000": "'<' * 10000",
    "` x10000": "'`' * 10000",
    "` x20000": "'`' * 20000",
    "a@ x5000": "'a@' * 5000",
    "http:// + a. x5000": "'http://' + 'a.' * 5000",
    "> x10000": "'>' * 10000",
    "- (space) x5000": "'- ' * 5000",
    "+ (space) x5000": "'+ ' * 5000",
    "1. x3300": "'1. ' * 3300",
    "nested list 90 levels": "''.join('    ' * i + '- x\\n' for i in range(90))",
    "a x20000": "'a' * 20000",
    "& x20000": "'&' * 20000",
    "![ x5000": "'![' * 5000",
    "[a  x3000": "'[a ' * 3000",
    "[a]( x3000": "'[a](' * 3000",
    "[a]('b) x2800": '"[a](\'b)" * 2800',
    "[ x5000 + ] x5000": "'[' * 5000 + ']' * 5000",
    "_a x5000": "'_a' * 5000",
    "| x10000": "'|' * 10000",
    "( x20000": "'(' * 20000",
    "( x10000 + a.com": "'(' * 10000 + 'a.com'",
    "a.com/ + . x20000": "'a.com/' + '.' * 20000",
    "a.com/ + ) x20000": "'a.com/' + ')' * 20000",
    "a- x10000": "'a-' * 10000",
    "www. x5000": "'www.' * 5000",
    "a. x10000 + @": "'a.' * 10000 + '@'",
    "a.x32 + a@ + a. x...": "('a.' * 32 + 'a@' + 'a-' * 100 + ' ') * 70",
    "[`]` x5000": "'[`]`' * 5000",
    "```x newline x4000": "'```x\\n' * 4000",
    "**a x6000": "'**a' * 6000",
    "~~a x6000": "'~~a' * 6000",
    "<a@ x6000": "'<a@' * 6000",
    "> - nested x3000": "'> - ' * 3000",
    "[a][ x5000": "'[a][' * 5000",
    "\\```[{ x3333": "'\\\\```[{' * 3333",
    "#newline x10000": "'#\\n' * 10000",
    "# | + | rows x3333": "'# |\\n|\\n' * 3333",
    ". blank 1. x3333 (long list)": "'.\\n\\n1. ' * 3333",
    "ordinary 20k": "('# Heading\\n\\nSome **bold** and _em_ text with a [link](https://example.org/x) '"
    " 'and `code`, mail a@example.org, see www.nice.org.uk.\\n\\n- one\\n- two\\n\\n') * 140",
}

CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_CPU, ({limit}, {limit} + 1))
sys.path.insert(0, {root!r})
from workspace.markdown import render_markdown
text = eval({expr!r})
render_markdown('warm up')
before = resource.getrusage(resource.RUSAGE_SELF).ru_utime
html = render_markdown(text)
after = resource.getrusage(resource.RUSAGE_SELF).ru_utime
print(json.dumps({{"chars": len(text), "cpu": after - before, "html": len(html)}}))
"""


def measure(expr: str, limit: float, root: Path = ROOT) -> dict:
    code = CHILD.format(root=str(root), expr=expr, limit=int(limit))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return {"cpu": None, "error": f">{limit:g} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"cpu": None, "error": last[:60]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0)
    parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="import workspace.markdown from here (e.g. an old copy, for 'before')",
    )
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    names = args.names or list(CORPUS)
    results = {}
    if not args.json:
        print(f"| {'input':28} | chars | CPU s  |")
        print(f"|{'-' * 30}|------:|-------:|")
    for name in names:
        result = measure(CORPUS[name], args.limit, args.root)
        results[name] = result
        if not args.json:
            cpu = (
                f"{result['cpu']:.3f}" if result["cpu"] is not None else result["error"]
            )
            print(
                f"| {name:28} | {result.get('chars', ''):>5} | {cpu:>6} |", flush=True
            )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
