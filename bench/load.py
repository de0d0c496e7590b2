"""The app under concurrent load: N gradio_client clients on loopback, mixing sketches and 12 MP photos.

    python bench/load.py [--clients 1 4 16 32] [--requests 6] [--seconds 120]

Starts `python app.py` on a free loopback port, and for each N runs N threads that each send a
bounded number of requests (stopping early after --seconds). Reports throughput, p50/p95
latency, errors (refusals by the full queue counted apart) and the server's peak RSS.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
from common import ROOT, free_port, table

import photosim as sim
from digitlab.data import load_mnist


def server_rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of the server process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def make_inputs(folder: Path):
    mnist = load_mnist()
    rng = np.random.default_rng(0)
    photos = []
    for k in range(3):
        img = sim.photo_digit(mnist.x_test[k], rng, "typical", size=(3000, 4000))
        path = folder / f"photo{k}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        photos.append(path)
    sketches = []
    for k in range(3):
        rgba = sim.sketch_digit(mnist.x_test[10 + k], rng, side=560, transparent=True)
        path = folder / f"sketch{k}.png"
        cv2.imwrite(str(path), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
        sketches.append(path)
    return photos, sketches


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16, 32])
    parser.add_argument("--requests", type=int, default=6, help="requests per client")
    parser.add_argument("--seconds", type=float, default=120, help="stop sending after this long per round")
    args = parser.parse_args()
    from gradio_client import Client, handle_file

    folder = Path(tempfile.mkdtemp())
    photos, sketches = make_inputs(folder)
    port = free_port()
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        rows = []
        for n in args.clients:
            latencies, errors, refused = [], [], []
            lock = threading.Lock()
            deadline = time.perf_counter() + args.seconds

            def client_loop(index):
                client = Client(url, verbose=False)
                for k in range(args.requests):
                    if time.perf_counter() > deadline:
                        return
                    t = time.perf_counter()
                    try:
                        if (index + k) % 2:
                            client.predict(handle_file(str(photos[k % 3])), "robust", "cnn", [], api_name="/photo")
                        else:
                            s = handle_file(str(sketches[k % 3]))
                            client.predict({"background": None, "layers": [s], "composite": s}, "robust", "cnn", [],
                                           api_name="/sketch")
                        with lock:
                            latencies.append(time.perf_counter() - t)
                    except Exception as exc:  # noqa: BLE001 - counting every failure is the point
                        with lock:
                            (refused if "queue" in str(exc).lower() else errors).append(str(exc)[:120])

            started = time.perf_counter()
            threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
            rss, peak = server_rss_mb(server.pid)
            lat = np.array(latencies) * 1000 if latencies else np.array([np.nan])
            rows.append([n, len(latencies), f"{len(latencies) / wall:.2f}/s", f"{np.percentile(lat, 50):.0f} ms",
                         f"{np.percentile(lat, 95):.0f} ms", len(errors), len(refused), f"{rss:.0f} MB", f"{peak:.0f} MB"])
            if errors:
                print(f"N={n} first error: {errors[0]}")
        print(table(["clients", "done", "throughput", "p50", "p95", "errors", "refused", "server RSS", "peak RSS"], rows))
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    main()
