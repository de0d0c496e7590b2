"""Time from `python app.py` to a page that answers, in a fresh process.

    python bench/startup.py        (target: <= 10 s)
"""

import os
import subprocess
import sys
import time
import urllib.request

from common import ROOT, free_port


def main():
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    try:
        while time.perf_counter() - started < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        print(f"python app.py -> page ready in {time.perf_counter() - started:.1f} s (target <= 10 s)")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
