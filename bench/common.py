"""Helpers shared by the benchmarks: paths, timing, tables.

The benchmarks import digitlab and photosim as installed packages: `pip install -e .` once
(scripts/test.sh does it).
"""

import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DIGITLAB_SHARED", ROOT.parent / "shared")) / "real-photos"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, *args, repeat=1):
    """Median seconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], result


def table(headers, rows) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, app_dir: Path = ROOT) -> subprocess.Popen:
    """`python app.py --port PORT` in app_dir (another checkout can be measured too), once it answers."""
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=app_dir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(app_dir)})
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the app did not start within 3 minutes")
