"""The Gradio app through its API (gradio_client), launched in-process on loopback."""

import base64
import html
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

import photosim as sim
from conftest import free_port

from digitlab.pipeline import PIPELINES

ROBUST_STAGES = len(PIPELINES["robust"])  # the app shows every stage of the list, whatever its length

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app_url():
    import app

    port = free_port()
    demo = app.serve(port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def png_data_url(rgba: np.ndarray) -> str:
    """What the Draw tab's canvas sends: the drawing as a PNG data URL."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode()


@pytest.fixture(scope="module")
def files(tmp_path_factory, mnist):
    folder = tmp_path_factory.mktemp("app")
    rng = np.random.default_rng(11)
    digit = mnist.x_test[np.flatnonzero(mnist.y_test == 3)[0]]
    # The canvas sends its drawing at 140x140.
    (folder / "sketch.txt").write_text(png_data_url(sim.sketch_digit(digit, rng, side=140, transparent=True)))
    (folder / "empty.txt").write_text(png_data_url(np.zeros((140, 140, 4), np.uint8)))
    seven = mnist.x_test[np.flatnonzero(mnist.y_test == 7)[0]]
    (folder / "seven.txt").write_text(png_data_url(sim.sketch_digit(seven, rng, side=140, transparent=True)))
    photo_digit = mnist.x_test[np.flatnonzero(mnist.y_test == 6)[2]]
    photo = sim.photo_digit(photo_digit, rng, "typical", size=(3000, 4000))
    cv2.imwrite(str(folder / "photo.jpg"), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    (folder / "notes.png").write_text("not an image")
    from test_robustness import bomb_png

    (folder / "bomb.png").write_bytes(bomb_png())
    return folder


def label_of(value):
    return value.get("label") if isinstance(value, dict) else value


def top_confidence(value) -> float:
    return max(c["confidence"] for c in value["confidences"]) if isinstance(value, dict) else 0.0


def captions(stages_html: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", stages_html)]


def pictures(stages_html: str) -> list[np.ndarray]:
    """The inline images of a stage view, decoded."""
    urls = re.findall(r'src="data:image/(?:png|jpeg);base64,([^"]+)"', stages_html)
    return [cv2.imdecode(np.frombuffer(base64.b64decode(u), np.uint8), cv2.IMREAD_UNCHANGED) for u in urls]


def test_sketch_gives_digit_and_all_stages(client, files):
    from digitlab.pipeline import PIPELINES

    label, verdict, stages, alternatives, table = client.predict(
        (files / "sketch.txt").read_text(), "robust", "cnn", [], api_name="/sketch")
    assert label_of(label) == "3"
    said = captions(stages)
    assert len(said) == len(PIPELINES["robust"]) == len(pictures(stages))
    assert said[0].startswith(PIPELINES["robust"][0].title)
    assert said[-1].startswith("Centre by mass: 3")
    assert "**3**" in verdict and "Normalise stroke width" in table
    # The stage pictures travel inside the answer, and the 28x28 ones at their own size.
    assert pictures(stages)[-1].shape[:2] == (28, 28) and "/file=" not in stages


def test_cleared_sketch_gives_no_digit(client, files):
    for drawing in ("", (files / "empty.txt").read_text()):
        label, verdict, stages, *_ = client.predict(drawing, "robust", "cnn", [], api_name="/sketch")
        assert label_of(label) == "no digit"
    assert "empty" in client.predict("", "robust", "cnn", [], api_name="/sketch")[1]


def test_uploaded_12mp_photo(client, files):
    from gradio_client import handle_file

    label, verdict, stages, alternatives, *_ = client.predict(handle_file(str(files / "photo.jpg")), "robust", "cnn",
                                                              [], api_name="/photo")
    assert label_of(label) == "6"
    assert len(captions(stages)) == ROBUST_STAGES
    # The readings the robust pipeline weighed, one of them kept.
    assert "Alternatives considered" in alternatives and alternatives.count(">kept<") == 1
    # Photo stages are thumbnails, not the 12 MP image.
    assert max(max(p.shape[:2]) for p in pictures(stages)) <= 240


def test_workshop_options_change_the_result(client, files):
    from gradio_client import handle_file

    photo = handle_file(str(files / "photo.jpg"))
    article = client.predict(photo, "article", "cnn", [], api_name="/photo")
    robust = client.predict(photo, "robust", "cnn", [], api_name="/photo")
    assert len(captions(article[2])) == 8 and len(captions(robust[2])) == ROBUST_STAGES
    # On a 12 MP photo the article's steps (squash the whole frame to 28x28 first) are less sure.
    assert top_confidence(article[0]) < top_confidence(robust[0])
    skipped = client.predict(photo, "robust", "cnn", ["polarity"], api_name="/photo")
    assert captions(skipped[2])[3].endswith("switched off")
    # Without it the ink is the paper: another digit, or the 6 only as the paper's hole, far less sure.
    assert label_of(skipped[0]) != "6" or top_confidence(skipped[0]) < top_confidence(robust[0]) - 0.2
    assert "switched off" in skipped[4]  # the table says it with the same words
    soft = client.predict(photo, "robust", "softmax", [], api_name="/photo")
    assert "softmax" in soft[1]


def test_broken_upload_gets_a_message(client, files):
    from gradio_client import handle_file

    for name, says in (("broken.jpg", "damaged"), ("notes.png", "text"), ("bomb.png", "megapixels")):
        label, verdict, *_ = client.predict(handle_file(str(files / name)), "robust", "cnn", [], api_name="/photo")
        assert label_of(label) == "no digit" and "Cannot read this image" in verdict and says in verdict, verdict
    for drawing, says in (("data:image/png;base64,!!!", "base64"), ("data:image/png;base64,aGVsbG8=", "text")):
        label, verdict, *_ = client.predict(drawing, "robust", "cnn", [], api_name="/sketch")
        assert label_of(label) == "no digit" and says in verdict, verdict


def test_compare_and_number_endpoints(client, files):
    from gradio_client import handle_file

    article_label, article_stages, robust_label, robust_stages, verdict = client.predict(
        handle_file(str(files / "photo.jpg")), "cnn", api_name="/compare")
    assert label_of(robust_label) == "6" and "article" in verdict and "robust" in verdict
    assert len(captions(article_stages)) == 8 and len(captions(robust_stages)) == ROBUST_STAGES
    number = sorted((ROOT / "assets" / "examples").glob("number_0_*"))[0]
    boxes, text, digits, segmentations = client.predict(handle_file(str(number)), api_name="/number")
    expected = number.stem.split("label")[1]
    assert text.strip("# \n") == expected and digits.count("<details>") == len(expected)
    assert "<img" in boxes
    assert f"`{expected}`" in segmentations and "runner-up" in segmentations  # the winning split and the next best


def test_exposure_and_privacy_defaults(app_url):
    import urllib.error

    import app

    assert app_url.startswith("http://127.0.0.1:")  # loopback unless told otherwise
    demo = app.build_app()
    assert demo.delete_cache == (600, 900)  # uploads and outputs removed after 10-15 minutes
    assert app.MAX_UPLOAD == "20mb"
    # Files outside what the app serves stay private.
    for path in ("gradio_api/file=/etc/passwd", "file=/etc/passwd", f"gradio_api/file={ROOT}/app.py"):
        try:
            status = urllib.request.urlopen(app_url + path, timeout=10).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status in (403, 404), (path, status)


def test_address_precedence():
    """Flags, then DIGITLAB_*, then Gradio's GRADIO_SERVER_*, then loopback:7860."""
    import app

    gradio_env = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7931"}
    both = {**gradio_env, "DIGITLAB_HOST": "127.0.0.2", "DIGITLAB_PORT": "7932"}
    assert app.address(env={}) == ("127.0.0.1", 7860)
    assert app.address(env=gradio_env) == ("0.0.0.0", 7931)
    assert app.address(env=both) == ("127.0.0.2", 7932)
    assert app.address("127.0.0.3", 7933, env=both) == ("127.0.0.3", 7933)


def test_gradio_server_port_is_honoured():
    """`GRADIO_SERVER_PORT=N python app.py` serves on N (as Gradio apps and Hugging Face Spaces expect)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGITLAB_HOST", "DIGITLAB_PORT"))}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env={**env, "GRADIO_SERVER_PORT": str(port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "the app did not answer on GRADIO_SERVER_PORT"
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(30)


def model_views_of(client, endpoint: str, *inputs) -> tuple:
    """An answer and the model views that follow it (the page asks for both; the client in the same session)."""
    answer = client.predict(*inputs, api_name=f"/{endpoint}")
    return answer, client.predict(api_name=f"/{endpoint}_model_views")


def test_model_views_follow_the_input(client, files, mnist):
    from digitlab.model import load_classifier
    from digitlab.pipeline import recognize

    answers = {}
    for name, digit in (("sketch", 3), ("seven", 7)):
        answer, views = model_views_of(client, "sketch", (files / f"{name}.txt").read_text(), "robust", "cnn", [])
        assert label_of(answer[0]) == str(digit) and f'data-digit="{digit}"' in views
        answers[digit] = views
        evidence, among, opened = (views.split(f'class="{part}"')[1] for part in ("mv-evidence", "mv-among",
                                                                                  "mv-opened"))
        # The top class's map and the ten "why not" maps, one radio per class, the runner-up checked.
        assert len(pictures(evidence.split("mv-among")[0])) == 11
        checked = re.findall(r'value="(\d)" checked', views)
        assert len(checked) == 1 and checked[0] != str(digit)
        assert captions(evidence)[0].startswith(f"Why {digit}?")
        assert captions(evidence)[1 + int(checked[0])].startswith(f"Why not {checked[0]}?")
        # Yours, the class mean, 8 neighbours; all at 28x28, enlarged by the browser.
        tiles = captions(among.split("mv-opened")[0])
        assert tiles[:2] == ["yours", f"mean {digit}"] and len(tiles) == 10
        assert all(p.shape[:2] == (28, 28) for p in pictures(views))
        # The softmax model's scores are what the softmax model says on the same final image.
        scores = [float(x) for x in re.findall(r"<span[^>]*>([+-]\d+\.\d)</span>", opened)]
        drawing = cv2.imdecode(np.frombuffer(base64.b64decode((files / f"{name}.txt").read_text().split(",")[1]),
                                             np.uint8), cv2.IMREAD_UNCHANGED)
        result = recognize(cv2.cvtColor(drawing, cv2.COLOR_BGRA2RGBA), pipeline="robust", model="cnn")
        logits = np.log(load_classifier("softmax").predict(result.model_input)[0])
        assert len(scores) == 10 and np.argmax(scores) == np.argmax(logits)
        assert np.allclose(np.array(scores) - max(scores), logits - logits.max(), atol=0.11)  # scores are shown to 0.1
    assert answers[3] != answers[7]
    # No digit, no views; and no sheet.
    answer, views = model_views_of(client, "sketch", "", "robust", "cnn", [])
    assert label_of(answer[0]) == "no digit" and views == ""
    assert client.predict(api_name="/sketch_sheet") is None


def test_photo_model_views_and_the_sheet(client, files):
    from gradio_client import handle_file

    from digitlab.visual import stage_sheet

    answer, views = model_views_of(client, "photo", handle_file(str(files / "photo.jpg")), "robust", "cnn", [])
    assert label_of(answer[0]) == "6" and 'data-digit="6"' in views and "mean 6" in views
    path = client.predict(api_name="/photo_sheet")
    sheet = cv2.imread(path)
    assert Path(path).name == "digitlab_sheet_6.png" and sheet is not None
    assert sheet.shape[1] >= 13 * 200  # every stage of the robust pipeline, with the model views below
    # A damaged file: a message, and nothing to explain.
    answer, views = model_views_of(client, "photo", handle_file(str(files / "broken.jpg")), "robust", "cnn", [])
    assert "Cannot read this image" in answer[1] and views == ""


def test_evaluate_adds_confusion_and_stage_accuracy(client, tmp_path, mnist):
    from gradio_client import handle_file

    rng = np.random.default_rng(4)
    uploads = []
    for digit in (1, 3, 3, 7):
        image = sim.sketch_digit(mnist.x_test[np.flatnonzero(mnist.y_test == digit)[len(uploads)]], rng, side=200)
        path = tmp_path / f"{digit}_{len(uploads)}.png"
        cv2.imwrite(str(path), cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR))
        uploads.append(handle_file(str(path)))
    (tmp_path / "broken_x.png").write_text("not an image")
    uploads.append(handle_file(str(tmp_path / "broken_x.png")))
    table, misread, notes, confusion, stage_accuracy = client.predict(uploads, "cnn", api_name="/evaluate")
    rows = {(r[0], r[1]): r for r in table["data"]}
    stages = stage_accuracy["data"]
    assert [r[0] for r in stages] == ["article"] * 8 + ["robust"] * ROBUST_STAGES
    # The model fed the last stage's output is the pipeline itself.
    for pipeline in ("article", "robust"):
        last = [r for r in stages if r[0] == pipeline][-1]
        assert int(last[4]) == int(rows[(pipeline, "all stages")][3]) and int(last[5]) == 4
    assert "<img" in confusion and "Accuracy per class" in confusion
    per_class = re.findall(r"<tr><td>(\d)</td><td>\d+%</td><td>(\d+)</td><td>(\d+)</td></tr>", confusion)
    assert [(d, n) for d, _, n in per_class] == [("1", "1"), ("3", "2"), ("7", "1")]
