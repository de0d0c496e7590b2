"""The app under concurrent load: N gradio_client clients on loopback, mixing sketches and 12 MP photos.

    python bench/load.py [--clients 1 4 16 32] [--requests 6] [--seconds 120] [--no-overflow]

Starts `python app.py` on a free loopback port. For each N, two rounds: every client sends its own
photo (a different 12 MP JPEG per client) and its own sketch, then all clients send the same photo
and sketch (a workshop clicking one example). Each client alternates sketch and photo requests.
Reports throughput, p50/p95 latency, errors, refusals and the server's memory after each round.
Then one overflow round posts more requests at once than the queue holds (64 waiting + 2 running
by default) and counts how many are queued and answered, and how many are refused at once with
Gradio's "Queue is full" (HTTP 503) instead of a broken response.
"""

import argparse
import base64
import json
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
from common import free_port, start_app, table

import photosim as sim
from digitlab.data import load_mnist

QUEUE_SIZE, CONCURRENCY = 64, 2  # the app's defaults (python app.py --help)


def server_rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of the server process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def make_inputs(folder: Path, clients: int):
    """One 12 MP JPEG and one 140x140 canvas drawing (PNG data URL) per client, all different."""
    mnist = load_mnist()
    rng = np.random.default_rng(0)
    bases = [sim.photo_digit(mnist.x_test[k], rng, "typical", size=(3000, 4000)) for k in range(4)]
    photos, sketches = [], []
    for i in range(clients):
        # A different digit photo, shifted by a few pixels, per client: different bytes, different outputs.
        img = np.roll(bases[i % 4], i // 4, axis=1)
        path = folder / f"photo{i}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        photos.append(path)
        rgba = sim.sketch_digit(mnist.x_test[100 + i], rng, side=140, transparent=True)
        ok, png = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
        sketches.append("data:image/png;base64," + base64.b64encode(png.tobytes()).decode())
    return photos, sketches


def is_refusal(exc: Exception) -> bool:
    return "queue is full" in str(exc).lower()


def run_round(url, n, requests, seconds, photo_of, sketch_of):
    """n clients, each sending `requests` requests; returns (latencies, errors, refused, wall seconds)."""
    from gradio_client import Client, handle_file

    latencies, errors, refused = [], [], []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client_loop(index):
        client = Client(url, verbose=False)
        for k in range(requests):
            if time.perf_counter() > deadline:
                return
            t = time.perf_counter()
            try:
                if (index + k) % 2:
                    client.predict(handle_file(str(photo_of(index))), "robust", "cnn", [], api_name="/photo")
                else:
                    client.predict(sketch_of(index), "robust", "cnn", [], api_name="/sketch")
                with lock:
                    latencies.append(time.perf_counter() - t)
            except Exception as exc:  # noqa: BLE001 - counting every failure is the point
                with lock:
                    (refused if is_refusal(exc) else errors).append(f"{type(exc).__name__}: {exc}"[:160])

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, refused, time.perf_counter() - started


def overflow(url, photo: Path, extra: int = 16):
    """More clients than the queue holds, all at once: each posts one 12 MP photo request straight to
    Gradio's queue (the photo uploaded once beforehand, so every join lands within a moment).
    Returns (total, answered, refused, other errors, the refusal's text)."""
    import httpx

    api = url.rstrip("/") + "/gradio_api"
    config = httpx.get(url.rstrip("/") + "/config").json()
    fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "photo")
    with open(photo, "rb") as f:
        server_path = httpx.post(api + "/upload", files=[("files", (photo.name, f, "image/jpeg"))]).json()[0]
    session = "overflow"
    body = {"data": [{"path": server_path, "orig_name": photo.name, "meta": {"_type": "gradio.FileData"}},
                     "robust", "cnn", []], "fn_index": fn_index, "session_hash": session, "event_data": None,
            "trigger_id": None}
    total = QUEUE_SIZE + CONCURRENCY + extra
    statuses, refusal = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(total)

    def join():
        with httpx.Client(timeout=60) as http:
            barrier.wait()
            r = http.post(api + "/queue/join", json=body)
        with lock:
            statuses.append(r.status_code)
            if r.status_code != 200:
                refusal.append(r.json().get("detail", r.text))

    threads = [threading.Thread(target=join) for _ in range(total)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = statuses.count(200)
    answered = failed = 0
    with httpx.stream("GET", api + "/queue/data", params={"session_hash": session}, timeout=600) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    answered += bool(message.get("success"))
                    failed += not message.get("success")
                    if answered + failed == accepted:
                        break
    refused = statuses.count(503)
    others = len(statuses) - accepted - refused + failed
    return total, accepted, answered, refused, others, (refusal[0] if refusal else "")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16, 32])
    parser.add_argument("--requests", type=int, default=6, help="requests per client")
    parser.add_argument("--seconds", type=float, default=120, help="stop sending after this long per round")
    parser.add_argument("--no-overflow", action="store_true", help="skip the queue-overflow round")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp())
    photos, sketches = make_inputs(folder, max(args.clients))
    port = free_port()
    server = start_app(port)
    url = f"http://127.0.0.1:{port}/"
    rows, first_errors = [], []
    try:
        for n in args.clients:
            for inputs, photo_of, sketch_of in (("own photo each", lambda i: photos[i], lambda i: sketches[i]),
                                                ("same photo", lambda i: photos[0], lambda i: sketches[0])):
                latencies, errors, refused, wall = run_round(url, n, args.requests, args.seconds, photo_of, sketch_of)
                rss, peak = server_rss_mb(server.pid)
                lat = np.array(latencies) * 1000 if latencies else np.array([np.nan])
                rows.append([n, inputs, len(latencies), f"{len(latencies) / wall:.2f}/s",
                             f"{np.percentile(lat, 50):.0f} ms", f"{np.percentile(lat, 95):.0f} ms", len(errors),
                             len(refused), f"{rss:.0f} MB", f"{peak:.0f} MB"])
                first_errors += [f"N={n} ({inputs}): {e}" for e in errors[:2]]
                print(table(HEADERS, rows[-1:]) if len(rows) == 1 else table(HEADERS, rows[-1:]).splitlines()[-1],
                      flush=True)
        print()
        print(table(HEADERS, rows))
        for line in first_errors:
            print(line)
        if not args.no_overflow:
            total, accepted, answered, refused, others, says = overflow(url, photos[0])
            print(f"\noverflow: {total} photo requests at once (queue {QUEUE_SIZE} + {CONCURRENCY} running): "
                  f"{accepted} queued and {answered} of them answered, {refused} refused at once (HTTP 503: "
                  f"{says!r}), {others} other errors")
    finally:
        server.terminate()
        server.wait(20)


HEADERS = ["clients", "inputs", "done", "throughput", "p50", "p95", "errors", "refused", "server RSS", "peak RSS"]

if __name__ == "__main__":
    main()
