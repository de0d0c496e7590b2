"""A real browser (Debian's Chromium driven by Playwright): draw a digit, upload a photo, read the results.

Screenshots land in tests/artifacts/ (ignored by git) for a person to look at.
"""

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import free_port

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK) or shutil.which("chromium") is None and
                                not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"


@pytest.fixture(scope="module")
def page():
    import app
    from playwright.sync_api import sync_playwright

    port = free_port()
    demo = app.serve(port=port, block=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1400})
        pg.goto(f"http://127.0.0.1:{port}/")
        pg.get_by_text("Draw one digit").first.wait_for(timeout=30000)
        yield pg
        browser.close()
    demo.close()


def record(artifacts, what: str, seconds: float) -> None:
    """Latency as the browser sees it, for people to read (tests/artifacts/latency.txt); not asserted."""
    with open(artifacts / "latency.txt", "a") as f:
        f.write(f"{what}: {seconds * 1000:.0f} ms\n")


def visible_label(pg) -> str:
    """The top class shown by the first visible Label component."""
    return pg.locator("[data-testid='label-output-value'] h2, .output-class").locator("visible=true").first.inner_text()


def draw_seven(pg, canvas):
    box = canvas.bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    points = [(0.3, 0.25), (0.7, 0.25), (0.45, 0.8)]
    pg.mouse.move(x0 + points[0][0] * w, y0 + points[0][1] * h)
    pg.mouse.down()
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        for t in [i / 12 for i in range(1, 13)]:
            pg.mouse.move(x0 + (ax + (bx - ax) * t) * w, y0 + (ay + (by - ay) * t) * h)
    pg.mouse.up()


def test_draw_a_digit_and_see_every_stage(page, artifacts):
    pg = page
    pg.get_by_role("button", name="Brush").first.click()
    canvas = pg.locator("canvas").locator("visible=true").first
    draw_seven(pg, canvas)
    started = time.perf_counter()
    pg.wait_for_function("() => document.querySelectorAll('.stage-gallery img').length >= 13", timeout=30000)
    record(artifacts, "sketch stroke -> label and 13 stages shown", time.perf_counter() - started)
    pg.wait_for_timeout(500)
    assert visible_label(pg).strip() == "7"
    captions = pg.locator(".stage-gallery").first.inner_text()
    assert "Centre by mass: 7" in captions
    pg.screenshot(path=str(artifacts / "draw.png"), full_page=True)


def test_upload_a_photo(page, artifacts):
    pg = page
    pg.get_by_role("tab", name="Photo", exact=True).click()
    photo = sorted(EXAMPLES.glob("photo_typical_0_*"))[0]
    expected = photo.stem.split("label")[1]
    with pg.expect_file_chooser() as chooser:  # as a person does: click the upload area, pick a file
        pg.get_by_text("Click to Upload").locator("visible=true").first.click()
    chooser.value.set_files(str(photo))
    started = time.perf_counter()
    pg.wait_for_function(
        "() => [...document.querySelectorAll('.stage-gallery')].some(g => g.offsetParent && g.querySelectorAll('img').length >= 13)",
        timeout=60000)
    record(artifacts, f"photo upload ({photo.name}) -> label and stages shown", time.perf_counter() - started)
    pg.wait_for_timeout(500)
    assert visible_label(pg).strip() == expected
    pg.screenshot(path=str(artifacts / "photo.png"), full_page=True)
