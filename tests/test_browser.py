"""A real browser (Debian's Chromium driven by Playwright): draw a digit, upload a photo, read the results,
on a desktop window and on a phone-sized touch screen.

Screenshots land in tests/artifacts/ (ignored by git) for a person to look at.
"""

import os

import numpy as np
from pathlib import Path

import pytest

from conftest import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="Debian's chromium is not installed")
EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"
SEVEN = [(0.3, 0.25), (0.7, 0.25), (0.45, 0.8)]  # a 7 as a polyline, in fractions of the canvas
SHOWN_STAGES = ("() => [...document.querySelectorAll('.stage-gallery')]"
                ".some(g => g.offsetParent && g.querySelectorAll('img').length >= 13)")


@pytest.fixture(scope="module")
def server():
    import app

    port = free_port()
    demo = app.serve(port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_app(browser, url, **context_options):
    page = browser.new_context(**context_options).new_page()
    page.goto(url)
    page.locator(".sketch[data-ready] canvas").first.wait_for(timeout=60000)
    return page


def visible_label(pg) -> str:
    """The top class shown by the first visible Label component."""
    return pg.locator("[data-testid='label-output-value'] h2, .output-class").locator("visible=true").first.inner_text()


def polyline(box, points, steps: int = 12):
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    out = [(x0 + points[0][0] * w, y0 + points[0][1] * h)]
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        out += [(x0 + (ax + (bx - ax) * t / steps) * w, y0 + (ay + (by - ay) * t / steps) * h)
                for t in range(1, steps + 1)]
    return out


def draw_with_mouse(pg, canvas, points):
    path = polyline(canvas.bounding_box(), points)
    pg.mouse.move(*path[0])
    pg.mouse.down()
    for x, y in path[1:]:
        pg.mouse.move(x, y)
    pg.mouse.up()


def draw_with_finger(pg, canvas, points):
    """One touch stroke, as a phone's touch screen reports it (Chrome DevTools touch events)."""
    cdp = pg.context.new_cdp_session(pg)
    path = polyline(canvas.bounding_box(), points)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": path[0][0], "y": path[0][1]}]})
    for x, y in path[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_draw_right_after_load_and_see_every_stage(browser, server, artifacts):
    pg = open_app(browser, server, viewport={"width": 1400, "height": 1400})
    canvas = pg.locator(".sketch canvas").first
    draw_with_mouse(pg, canvas, SEVEN)  # no tool picked first: the brush is ready
    pg.wait_for_function(SHOWN_STAGES, timeout=30000)
    assert visible_label(pg).strip() == "7"
    assert "Centre by mass: 7" in pg.locator(".stage-gallery").first.inner_text()
    pg.screenshot(path=str(artifacts / "draw.png"), full_page=True)
    # The workshop controls re-run the same drawing: the article's pipeline has 8 stages.
    pg.get_by_text("Workshop controls").first.click()
    pg.get_by_label("article").first.check()
    pg.wait_for_function("() => document.querySelector('.stage-gallery')?.querySelectorAll('figure').length === 8",
                         timeout=30000)
    pg.get_by_label("robust").first.check()
    pg.get_by_role("button", name="Undo").first.click()  # the only stroke goes: the canvas is empty again
    pg.get_by_text("the canvas is empty").first.wait_for(timeout=30000)
    assert pg.locator(".stage-gallery img").count() == 0
    draw_with_mouse(pg, canvas, SEVEN)
    pg.wait_for_function(SHOWN_STAGES, timeout=30000)
    pg.get_by_role("button", name="Clear").first.click()
    pg.get_by_text("the canvas is empty").first.wait_for(timeout=30000)


def test_upload_a_photo(browser, server, artifacts):
    pg = open_app(browser, server, viewport={"width": 1400, "height": 1400})
    pg.get_by_role("tab", name="Photo", exact=True).click()
    photo = sorted(EXAMPLES.glob("photo_typical_0_*"))[0]
    expected = photo.stem.split("label")[1]
    with pg.expect_file_chooser() as chooser:  # as a person does: click the upload area, pick a file
        pg.get_by_text("Click to Upload").locator("visible=true").first.click()
    chooser.value.set_files(str(photo))
    pg.wait_for_function(SHOWN_STAGES, timeout=60000)
    assert visible_label(pg).strip() == expected
    pg.screenshot(path=str(artifacts / "photo.png"), full_page=True)


def test_phone_draw_with_a_finger(browser, server, artifacts):
    """390 px wide touch screen: the canvas fits, a finger draws at once, the answer shows right under it."""
    pg = open_app(browser, server, viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True,
                  has_touch=True)
    canvas = pg.locator(".sketch canvas").first
    box = canvas.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["width"] >= 300
    draw_with_finger(pg, canvas, SEVEN)
    pg.wait_for_function(SHOWN_STAGES, timeout=30000)
    assert visible_label(pg).strip() == "7"
    label = pg.locator("[data-testid='label-output-value']").locator("visible=true").first.bounding_box()
    # Right under the canvas, on the first screen: no scrolling to see the answer.
    assert box["y"] + box["height"] <= label["y"] and label["y"] + 40 <= 844, (box, label)
    pg.screenshot(path=str(artifacts / "phone.png"))
    # The Photo tab: a phone offers its camera for an image file input, and the camera source is there too.
    pg.get_by_role("tab", name="Photo", exact=True).click()
    upload = pg.locator("input[type=file]").first
    upload.wait_for(state="attached", timeout=30000)
    assert "image" in (upload.get_attribute("accept") or "")
    assert pg.get_by_role("button", name="Capture from camera").locator("visible=true").count() >= 1


ONE = [(0.5, 0.2), (0.5, 0.8)]  # a 1: one vertical stroke
MODEL_VIEWS = ".model-views"
# True once the visible model views are for the digit `d` and every picture in them is decoded.
VIEWS_FOR_JS = """(d) => {
  const v = [...document.querySelectorAll('.model-views')].find(e => e.offsetParent);
  return !!v && v.dataset.digit === String(d)
    && [...v.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0);
}"""


def wait_for_views(pg, digit, artifacts, timeout=60000):
    """Wait until the model views show ``digit``; if they never do, say what the page shows instead (a screenshot in
    the artifacts, the label, the views' digit), so a failure on a CI machine can be read afterwards."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        pg.wait_for_function(VIEWS_FOR_JS, arg=digit, timeout=timeout)
    except PlaywrightTimeout:
        pg.screenshot(path=str(artifacts / f"views_for_{digit}_timed_out.png"), full_page=True)
        shown = pg.evaluate("() => [...document.querySelectorAll('.model-views')].map(e => e.dataset.digit)")
        label = pg.locator("[data-testid='label-output-value'] h2, .output-class").all_inner_texts()
        raise AssertionError(f"model views for {digit} never shown: views {shown}, labels {label}") from None


def visible(pg, selector):
    return pg.locator(selector).locator("visible=true")


def test_model_views_follow_the_drawing(browser, server, artifacts):
    """Under the stages: the evidence maps with a "why not" picker, the MNIST neighbours, the softmax model;
    they change with the drawing, picking a class asks the server nothing, and the sheet downloads as a PNG."""
    import cv2

    pg = open_app(browser, server, viewport={"width": 1400, "height": 2200}, accept_downloads=True)
    canvas = pg.locator(".sketch canvas").first
    draw_with_mouse(pg, canvas, SEVEN)
    wait_for_views(pg, 7, artifacts)
    views = visible(pg, MODEL_VIEWS).first
    # The top class's map, and "why not" the runner-up, picked by default.
    evidence = views.locator(".mv-evidence")
    assert visible(evidence, "figcaption").all_inner_texts()[0].startswith("Why 7?")
    runner_up = evidence.locator("input:checked").get_attribute("value")
    assert runner_up != "7"
    assert visible(evidence, "figcaption").all_inner_texts()[1].startswith(f"Why not {runner_up}?")
    evidence.screenshot(path=str(artifacts / "model_views_evidence.png"))
    # Another class: its map is shown from the same answer, without a request to the server.
    asked = []
    pg.on("request", lambda r: asked.append(r.url) if r.url.startswith(server) else None)
    other = "1" if runner_up != "1" else "2"
    evidence.locator(f"label.c{other}").click()
    assert visible(evidence, "figcaption").all_inner_texts()[1].startswith(f"Why not {other}?")
    assert visible(evidence, "figure").count() == 2 and asked == []
    # Your digit among MNIST: yours, the class mean, 8 neighbours (mostly 7s for a clear 7).
    among = views.locator(".mv-among")
    tiles = among.locator("figcaption").all_inner_texts()
    assert tiles[:2] == ["yours", "mean 7"] and len(tiles) == 10
    assert sum(t.startswith("7 ") for t in tiles[2:]) >= 6, tiles
    among.screenshot(path=str(artifacts / "model_views_neighbours.png"))
    # The softmax model opened: ten weight maps, ten contribution maps, ten scores.
    opened = views.locator(".mv-softmax")
    assert opened.locator("img").count() == 20
    scores = [float(s) for s in opened.locator("span").all_inner_texts()[-10:]]
    assert opened.locator("span.top").first.inner_text() == str(int(np.argmax(scores)))
    views.locator(".mv-opened").screenshot(path=str(artifacts / "model_views_softmax.png"))
    pg.screenshot(path=str(artifacts / "draw_model_views.png"), full_page=True)
    # One click downloads the stage sheet with the model views.
    with pg.expect_download(timeout=60000) as download:
        visible(pg, "button:has-text('Download the sheet')").first.click()
    path = artifacts / "downloaded_sheet.png"
    download.value.save_as(str(path))
    sheet = cv2.imread(str(path))
    assert download.value.suggested_filename.endswith(".png") and sheet is not None and sheet.shape[0] > 500
    # A new drawing: the views follow the new answer.
    pg.get_by_role("button", name="Clear").first.click()
    pg.get_by_text("the canvas is empty").first.wait_for(timeout=30000)
    draw_with_mouse(pg, canvas, ONE)
    wait_for_views(pg, 1, artifacts)
    assert visible(pg, MODEL_VIEWS).first.locator(".mv-among figcaption").nth(1).inner_text() == "mean 1"


def test_model_views_of_a_photo(browser, server, artifacts):
    pg = open_app(browser, server, viewport={"width": 1400, "height": 2400})
    pg.get_by_role("tab", name="Photo", exact=True).click()
    photo = sorted(EXAMPLES.glob("photo_typical_0_*"))[0]
    expected = photo.stem.split("label")[1]
    with pg.expect_file_chooser() as chooser:
        pg.get_by_text("Click to Upload").locator("visible=true").first.click()
    chooser.value.set_files(str(photo))
    wait_for_views(pg, expected, artifacts)
    views = visible(pg, MODEL_VIEWS).first
    assert views.locator(".mv-among figcaption").nth(1).inner_text() == f"mean {expected}"
    views.screenshot(path=str(artifacts / "photo_model_views.png"))


def test_evaluate_shows_the_confusion_matrix(browser, server, artifacts, tmp_path):
    """Evaluate my photos: the confusion matrix picture, accuracy per class and per stage, beside the table."""
    import shutil

    photos = sorted(EXAMPLES.glob("photo_typical_*.jpg"))[:3]
    uploads = []
    for k, photo in enumerate(photos):
        uploads.append(tmp_path / f"{photo.stem.split('label')[1]}_{k}.jpg")
        shutil.copy(photo, uploads[-1])
    pg = open_app(browser, server, viewport={"width": 1400, "height": 2000})
    pg.get_by_role("tab", name="Evaluate my photos", exact=True).click()
    pg.locator("input[type=file][multiple]").first.set_input_files([str(p) for p in uploads])
    visible(pg, f"text={uploads[-1].stem}").first.wait_for(timeout=30000)  # uploaded
    visible(pg, "button:has-text('Evaluate')").last.click()
    confusion = visible(pg, ".handwriting").first
    confusion.wait_for(timeout=120000)
    assert "Accuracy per class" in confusion.inner_text()
    assert visible(pg, "text=model fed this stage's output").count() >= 1
    pg.screenshot(path=str(artifacts / "evaluate.png"), full_page=True)
