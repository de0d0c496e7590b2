"""The Gradio app through its API (gradio_client), launched in-process on loopback."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import free_port
import photosim as sim

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


@pytest.fixture(scope="module")
def files(tmp_path_factory, mnist):
    folder = tmp_path_factory.mktemp("app")
    rng = np.random.default_rng(11)
    digit = mnist.x_test[np.flatnonzero(mnist.y_test == 3)[0]]
    sketch = sim.sketch_digit(digit, rng, side=560, transparent=True)  # what the sketchpad's layer holds
    cv2.imwrite(str(folder / "sketch.png"), cv2.cvtColor(sketch, cv2.COLOR_RGBA2BGRA))
    empty = np.zeros((560, 560, 4), np.uint8)
    cv2.imwrite(str(folder / "empty.png"), empty)
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


def test_sketch_gives_digit_and_all_stages(client, files):
    from gradio_client import handle_file

    layer = handle_file(str(files / "sketch.png"))
    label, gallery, verdict, table = client.predict({"background": None, "layers": [layer], "composite": layer},
                                                   "robust", "cnn", [], api_name="/sketch")
    assert label_of(label) == "3"
    from digitlab.pipeline import PIPELINES

    assert len(gallery) == len(PIPELINES["robust"])
    assert gallery[0]["caption"].startswith(PIPELINES["robust"][0].title)
    assert gallery[-1]["caption"].startswith("Centre by mass: 3")
    assert "**3**" in verdict and "Normalise stroke width" in table


def test_cleared_sketch_gives_no_digit(client, files):
    assert label_of(client.predict({"background": None, "layers": [], "composite": None}, "robust", "cnn", [],
                                   api_name="/sketch")[0]) == "no digit"
    empty = __import__("gradio_client").handle_file(str(files / "empty.png"))
    label, gallery, verdict, _ = client.predict({"background": None, "layers": [empty], "composite": empty},
                                                "robust", "cnn", [], api_name="/sketch")
    assert label_of(label) == "no digit" and "empty" in verdict


def test_uploaded_12mp_photo(client, files):
    from gradio_client import handle_file

    label, gallery, verdict, _ = client.predict(handle_file(str(files / "photo.jpg")), "robust", "cnn", [],
                                                api_name="/photo")
    assert label_of(label) == "6"
    assert len(gallery) == 13


def test_workshop_options_change_the_result(client, files):
    from gradio_client import handle_file

    photo = handle_file(str(files / "photo.jpg"))
    article = client.predict(photo, "article", "cnn", [], api_name="/photo")
    robust = client.predict(photo, "robust", "cnn", [], api_name="/photo")
    assert len(article[1]) == 8 and len(robust[1]) == 13
    # On a 12 MP photo the article's steps (squash the whole frame to 28x28 first) are unsure at best.
    assert top_confidence(article[0]) < 0.9 < top_confidence(robust[0])
    skipped = client.predict(photo, "robust", "cnn", ["polarity"], api_name="/photo")
    assert "switched off" in skipped[1][3]["caption"] and label_of(skipped[0]) != "6"
    soft = client.predict(photo, "robust", "softmax", [], api_name="/photo")
    assert "softmax" in soft[2]


def test_broken_upload_gets_a_message(client, files):
    from gradio_client import handle_file

    for name, says in (("broken.jpg", "damaged"), ("notes.png", "text"), ("bomb.png", "megapixels")):
        label, gallery, verdict, _ = client.predict(handle_file(str(files / name)), "robust", "cnn", [],
                                                    api_name="/photo")
        assert label_of(label) == "no digit" and "Cannot read this image" in verdict and says in verdict, verdict


def test_compare_and_number_endpoints(client, files):
    from gradio_client import handle_file

    out = client.predict(handle_file(str(files / "photo.jpg")), "cnn", api_name="/compare")
    assert label_of(out[2]) == "6" and "article" in out[4] and "robust" in out[4]
    number = sorted((ROOT / "assets" / "examples").glob("number_0_*"))[0]
    boxes, text, digits = client.predict(handle_file(str(number)), api_name="/number")  # State stays server-side
    expected = number.stem.split("label")[1]
    assert text.strip("# \n") == expected and len(digits) == len(expected)


def test_exposure_and_privacy_defaults(app_url):
    import urllib.error
    import urllib.request

    import app

    assert app_url.startswith("http://127.0.0.1:")  # loopback unless --host says otherwise
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
