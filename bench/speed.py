"""Latency and memory of preprocessing + inference, in one process.

    python bench/speed.py

Targets (issue 11, with every hypothesis weighed by the verifier): <= 100 ms for a 12 MP JPEG photo
(after decoding), <= 30 ms for a 600x600 sketch (medians); peak RSS of a process classifying 100
photos < 1.5 GB.
"""


import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from common import peak_rss_mb, table, timed

import photosim as sim
from digitlab.data import load_mnist
from digitlab.imageio import load_image
from digitlab.model import load_classifier
from digitlab.pipeline import recognize


def main():
    mnist = load_mnist()
    classifier = load_classifier("cnn")
    rng = np.random.default_rng(0)
    photo = sim.photo_digit(mnist.x_test[0], rng, "typical", size=(3000, 4000))  # 12 MP
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    jpeg = jpeg.tobytes()
    sketch = sim.sketch_digit(mnist.x_test[1], rng, side=600)
    sketch_t = sim.sketch_digit(mnist.x_test[1], rng, side=600, transparent=True)
    recognize(sketch, classifier=classifier)  # warm-up
    rows = []
    decode, decoded = timed(load_image, jpeg, repeat=5)
    rows.append(["decode 12 MP JPEG (reduced-size decode)", f"{decode * 1000:.0f} ms", "-"])
    full = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    t, _ = timed(lambda: recognize(full, classifier=classifier), repeat=11)
    rows.append(["12 MP photo (4000x3000, decoded), robust + cnn", f"{t * 1000:.0f} ms", "<= 100 ms"])
    t, _ = timed(lambda: recognize(decoded, classifier=classifier), repeat=11)
    rows.append([f"12 MP JPEG decoded by digitlab ({decoded.shape[1]}x{decoded.shape[0]}), robust + cnn",
                 f"{t * 1000:.0f} ms", "-"])
    t, _ = timed(lambda: recognize(sketch, classifier=classifier, source="drawing"), repeat=31)
    rows.append(["600x600 sketch from the sketchpad (a drawing), robust + cnn", f"{t * 1000:.1f} ms", "<= 30 ms"])
    t, _ = timed(lambda: recognize(sketch, classifier=classifier), repeat=31)
    rows.append(["600x600 sketch uploaded (flat canvas, tried as a photo too)", f"{t * 1000:.1f} ms", "<= 30 ms"])
    t, _ = timed(lambda: recognize(sketch_t, classifier=classifier), repeat=31)
    rows.append(["600x600 transparent sketch, robust + cnn", f"{t * 1000:.1f} ms", "<= 30 ms"])
    t, _ = timed(lambda: recognize(full, pipeline="article", classifier=classifier), repeat=11)
    rows.append(["12 MP photo, article pipeline + cnn", f"{t * 1000:.0f} ms", "-"])
    x = np.zeros((1, 28, 28), np.float32)
    batch = np.zeros((16, 28, 28), np.float32)
    t_lite, _ = timed(lambda: classifier.predict(x), repeat=101)
    t_graph, _ = timed(lambda: classifier._call(x[..., None]).numpy(), repeat=101)
    t_keras, _ = timed(lambda: classifier.model.predict(x[..., None], verbose=0), repeat=21)
    t_lite16, _ = timed(lambda: classifier.predict(batch), repeat=51)
    t_graph16, _ = timed(lambda: classifier._call(batch[..., None]).numpy(), repeat=51)
    rows.append(["one 28x28 inference, LiteRT (the path a picture's readings take)", f"{t_lite * 1000:.2f} ms", "-"])
    rows.append(["one 28x28 inference, traced TensorFlow function", f"{t_graph * 1000:.2f} ms",
                 f"LiteRT {t_graph / t_lite:.1f}x faster"])
    rows.append(["one 28x28 inference, model.predict", f"{t_keras * 1000:.1f} ms", f"LiteRT {t_keras / t_lite:.0f}x faster"])
    rows.append(["16 images in one call, LiteRT / traced TensorFlow", f"{t_lite16 * 1000:.1f} / {t_graph16 * 1000:.1f} ms", "-"])
    # Memory: peak RSS (VmHWM) of a separate process that only decodes and classifies 100 12 MP JPEGs
    # (10 files, 10 rounds), so the simulator's buffers here do not count. (ru_maxrss would not do:
    # Linux carries the forking parent's peak over exec.)
    folder = Path(tempfile.mkdtemp())
    for k in range(10):
        photo = sim.photo_digit(mnist.x_test[k], rng, "typical", size=(3000, 4000))
        cv2.imwrite(str(folder / f"{k}.jpg"), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    code = (
        "from digitlab.imageio import load_image\nfrom digitlab.model import load_classifier\n"
        "from digitlab.pipeline import recognize\nc = load_classifier('cnn')\n"
        "for k in range(100): recognize(load_image(%r + '/%%d.jpg' %% (k %% 10)), classifier=c)\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(int(hwm.split()[1]) / 1024)\n" % (str(folder),)
    )
    peak = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split()[-1])
    rows.append(["peak RSS of a process classifying 100 12 MP JPEGs", f"{peak:.0f} MB", "< 1500 MB"])
    rows.append(["(this bench process, simulator included)", f"{peak_rss_mb():.0f} MB", "-"])
    print(table(["measurement", "value", "target"], rows))


if __name__ == "__main__":
    main()
