"""The app as a person uses it, timed in Debian's Chromium (Playwright): strokes, photos, page load.

    python bench/browser_latency.py [--strokes 15] [--photos 4] [--numbers 4] [--app-dir DIR]

Starts `python app.py` on a free loopback port, then measures, as seen by the page:
  - page load: from navigation to a drawable canvas on the Draw tab;
  - a stroke drawn with the mouse on a cleared canvas (a 7 or a 1, so every answer has a digit and
    model views): from mouse-up until the label and every stage picture are shown;
  - a photo picked through the file chooser (the Photo tab): from the file being chosen until the
    label and every stage are shown, for a 1200x900 example and for 12 MP phone JPEGs;
  - for both, until the model views under the stages (issue 14, a second request) are shown too;
  - a photo of a number picked on the Number tab (the shipped number examples and a 12 MP photo of a
    6-digit number): from the file being chosen until the reading and every digit's picture are shown.
For each it prints the median and p90 time, and the HTTP requests and response bytes per update
(from Chrome's network events, streaming responses included). Targets (issue 13): stroke <= 250 ms
median and <= 400 ms p90, 12 MP photo <= 1.0 s, page load <= 2 s.

--app-dir runs another checkout's app.py (to measure an older version side by side); the update is
detected the same way for both: the visible `.stage-gallery` shows a new set of fully decoded images.
"""

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from common import ROOT, free_port, start_app, table

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
EXAMPLES = ROOT / "assets" / "examples"

# True once the visible stage gallery shows at least `n` decoded images that differ from the last update's.
UPDATED_JS = """(n) => {
  const g = [...document.querySelectorAll('.stage-gallery')].find(e => e.offsetParent);
  if (!g) return false;
  const imgs = [...g.querySelectorAll('img')];
  if (imgs.length < n || !imgs.every(i => i.complete && i.naturalWidth > 0)) return false;
  const sig = imgs.map(i => i.currentSrc || i.src).join('|');
  if (sig === window.__lastStages) return false;
  window.__lastStages = sig;
  return true;
}"""

# The Number tab: the visible list of digits shows a new set of decoded pictures (each digit's own; its
# stages wait, unrendered, in a closed <details>).
NUMBER_UPDATED_JS = """() => {
  const d = [...document.querySelectorAll('.number-digits')].find(e => e.offsetParent);
  if (!d) return false;
  const imgs = [...d.querySelectorAll('summary img')];
  if (!imgs.length || !imgs.every(i => i.complete && i.naturalWidth > 0)) return false;
  const sig = imgs.map(i => i.src).join('|');
  if (sig === window.__lastNumber) return false;
  window.__lastNumber = sig;
  return true;
}"""

# The same for the model views (issue 14), which follow the answer in a second request.
# An answer without a digit has no model views: then there is nothing more to wait for.
VIEWS_UPDATED_JS = """() => {
  const v = [...document.querySelectorAll('.model-views')].find(e => e.offsetParent);
  const label = [...document.querySelectorAll("[data-testid='label-output-value'] h2, .output-class")]
    .find(e => e.offsetParent);
  if (label && label.innerText.trim() === 'no digit') return true;
  if (!v) return false;
  const imgs = [...v.querySelectorAll('img')];
  if (!imgs.every(i => i.complete && i.naturalWidth > 0)) return false;
  const sig = imgs.slice(0, 2).map(i => i.src).join('|');
  if (sig === window.__lastViews) return false;
  window.__lastViews = sig;
  return true;
}"""
HAS_VIEWS_JS = "() => !!document.querySelector('.model-views-slot')"

# digitlab's canvas marks itself ready once its script runs; the old gr.Sketchpad had no such mark.
CANVAS_READY_JS = "() => !document.querySelector('.sketch') || !!document.querySelector('.sketch[data-ready]')"


class Network:
    """HTTP requests started and response bytes received since the last reset (Chrome DevTools protocol;
    streaming responses included, inline data: images not counted)."""

    def __init__(self, page):
        self.requests = 0
        self.bytes = 0
        self._http = set()
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.dataReceived", self._data)

    def _request(self, event):
        if event["request"]["url"].startswith("http"):
            self._http.add(event["requestId"])
            self.requests += 1

    def _data(self, event):
        if event["requestId"] in self._http:
            self.bytes += event.get("dataLength", 0)

    def reset(self):
        self.requests = self.bytes = 0


def phone_jpeg(rgb: np.ndarray, path: Path) -> Path:
    """``rgb`` saved as a phone saves a photo (JPEG, quality 90)."""
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def twelve_mp_photos(folder: Path, count: int = 2) -> list[Path]:
    import photosim as sim
    from digitlab.data import load_mnist

    mnist = load_mnist()
    rng = np.random.default_rng(5)
    paths = []
    for k in range(count):
        img = sim.photo_digit(mnist.x_test[20 + k], rng, "typical", size=(3000, 4000))
        paths.append(phone_jpeg(img, folder / f"phone_{k}.jpg"))
    return paths


def twelve_mp_numbers(folder: Path, count: int = 2) -> list[Path]:
    """12 MP phone photos of 6-digit numbers (the first is the one bench/read_numbers.py times on the server);
    two, so consecutive uploads differ."""
    import photosim as sim
    from digitlab.data import load_mnist

    mnist = load_mnist()
    paths = []
    for k in range(count):
        rng = np.random.default_rng(1 + k)
        picks = rng.choice(len(mnist.x_test), 6, replace=False)
        img, _ = sim.photo_number([mnist.x_test[i] for i in picks], [int(mnist.y_test[i]) for i in picks], rng,
                                  "typical", size=(3000, 4000), separators=False)
        paths.append(phone_jpeg(img, folder / f"number_12mp_{k}.jpg"))
    return paths


def choose_and_wait(pg, net, path: Path, updated_js: str, arg=None):
    """Clear the visible upload, pick ``path`` through the file chooser and wait for ``updated_js``; returns
    the moment the file was chosen (time.perf_counter)."""
    clear = pg.get_by_role("button", name="Remove Image").locator("visible=true")
    if clear.count():
        clear.first.click()
    upload = pg.get_by_text("Click to Upload").locator("visible=true").first
    upload.wait_for(timeout=30000)
    pg.wait_for_timeout(300)  # let the clearing update settle
    with pg.expect_file_chooser() as chooser:
        upload.click()
    net.reset()
    started = time.perf_counter()
    chooser.value.set_files(str(path))
    pg.wait_for_function(updated_js, arg=arg, timeout=60000, polling="raf")
    return started


DIGIT_STROKES = ([(0.3, 0.25), (0.7, 0.25), (0.45, 0.8)], [(0.5, 0.2), (0.5, 0.8)])  # a 7 and a 1, in one stroke


def stroke(pg, box, k: int):
    """The k-th stroke: a 7 or a 1 at one of nine offsets (so every answer differs), on a cleared canvas."""
    points = DIGIT_STROKES[k % 2]
    dx, dy = (k % 3 - 1) * 0.08 * box["width"], (k // 3 % 3 - 1) * 0.08 * box["height"]
    path = [(box["x"] + dx + x * box["width"], box["y"] + dy + y * box["height"]) for x, y in points]
    pg.mouse.move(*path[0])
    pg.mouse.down()
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        for t in np.linspace(0.1, 1, 8):
            pg.mouse.move(ax + (bx - ax) * t, ay + (by - ay) * t)
    pg.mouse.up()


HEADERS = ["update", "n", "median", "p90", "max", "requests", "bytes in", "target"]


def summarise(what, times, requests, sizes, target):
    t = np.array(times) * 1000
    return [what, len(times), f"{np.median(t):.0f} ms", f"{np.percentile(t, 90):.0f} ms", f"{np.max(t):.0f} ms",
            f"{np.median(requests):.0f}", f"{np.median(sizes) / 1024:.0f} KB", target]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--strokes", type=int, default=15)
    parser.add_argument("--photos", type=int, default=4, help="uploads of each photo kind")
    parser.add_argument("--numbers", type=int, default=4, help="uploads of each number photo on the Number tab")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="checkout whose app.py is measured")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    stages = {"robust": 13}["robust"]
    workdir = Path(tempfile.mkdtemp())
    big = twelve_mp_photos(workdir)
    small = sorted(EXAMPLES.glob("photo_typical_*.jpg"))
    port = free_port()
    server = start_app(port, args.app_dir.resolve())
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # Tall enough that every stage picture is on screen (lazily loaded images elsewhere would never load).
            pg = browser.new_page(viewport={"width": 1280, "height": 2400})
            net = Network(pg)
            loads, load_requests, load_bytes = [], [], []
            for _ in range(3):
                net.reset()
                started = time.perf_counter()
                pg.goto(f"http://127.0.0.1:{port}/")
                pg.locator("canvas").locator("visible=true").first.wait_for(timeout=60000)
                pg.wait_for_function(CANVAS_READY_JS, timeout=60000)
                loads.append(time.perf_counter() - started)
                load_requests.append(net.requests)
                load_bytes.append(net.bytes)
            rows.append(summarise("page load -> canvas shown", loads, load_requests, load_bytes, "<= 2 s"))
            brush = pg.get_by_role("button", name="Brush")
            if brush.count():  # the old gr.Sketchpad needs its brush picked first (not timed)
                brush.first.click()
            canvas = pg.locator("canvas").locator("visible=true").first
            has_views = pg.evaluate(HAS_VIEWS_JS)
            times, view_times, requests, sizes = [], [], [], []
            clear = pg.get_by_role("button", name="Clear").locator("visible=true")
            for k in range(args.strokes):
                if clear.count():  # each stroke is a digit of its own (clearing is not timed)
                    clear.first.click()
                    pg.get_by_text("the canvas is empty").locator("visible=true").first.wait_for(timeout=30000)
                    pg.wait_for_timeout(150)
                box = canvas.bounding_box()
                net.reset()
                stroke(pg, box, k)
                started = time.perf_counter()
                pg.wait_for_function(UPDATED_JS, arg=stages, timeout=60000, polling="raf")
                times.append(time.perf_counter() - started)
                if has_views:
                    pg.wait_for_function(VIEWS_UPDATED_JS, timeout=60000, polling="raf")
                    view_times.append(time.perf_counter() - started)
                pg.wait_for_timeout(150)  # a person's pause between strokes; the network events arrive meanwhile
                requests.append(net.requests)
                sizes.append(net.bytes)
            rows.append(summarise("one stroke -> label + every stage", times, requests, sizes,
                                  "<= 250 ms median, <= 400 ms p90"))
            if has_views:
                rows.append(summarise("one stroke -> ... + model views", view_times, requests, sizes, "-"))
            print(table(HEADERS, rows), flush=True)
            pg.get_by_role("tab", name="Photo", exact=True).click()
            for what, files, target in (("1200x900 photo", small, "-"), ("12 MP phone JPEG", big, "<= 1.0 s")):
                times, view_times, requests, sizes = [], [], [], []
                for k in range(args.photos):
                    started = choose_and_wait(pg, net, files[k % len(files)], UPDATED_JS, stages)
                    times.append(time.perf_counter() - started)
                    if has_views:
                        pg.wait_for_function(VIEWS_UPDATED_JS, timeout=60000, polling="raf")
                        view_times.append(time.perf_counter() - started)
                    pg.wait_for_timeout(150)  # the network events arrive meanwhile
                    requests.append(net.requests)
                    sizes.append(net.bytes)
                rows.append(summarise(f"{what} chosen -> label + every stage", times, requests, sizes, target))
                if has_views:
                    rows.append(summarise(f"{what} chosen -> ... + model views", view_times, requests, sizes, "-"))
                print(table(HEADERS, rows), flush=True)
            number_tab = pg.get_by_role("tab", name="Number", exact=True)
            if args.numbers and number_tab.count():
                number_tab.click()
                small_numbers = sorted(EXAMPLES.glob("number_*.jpg"))
                for what, files in (("photo of a number (example)", small_numbers),
                                    ("12 MP photo of a 6-digit number", twelve_mp_numbers(workdir))):
                    times, requests, sizes = [], [], []
                    for k in range(args.numbers):
                        started = choose_and_wait(pg, net, files[k % len(files)], NUMBER_UPDATED_JS)
                        times.append(time.perf_counter() - started)
                        pg.wait_for_timeout(150)  # the network events arrive meanwhile
                        requests.append(net.requests)
                        sizes.append(net.bytes)
                    rows.append(summarise(f"Number tab: {what} chosen -> reading + every digit", times, requests,
                                          sizes, "-"))
                print(table(HEADERS, rows), flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    main()
