"""The command line on real files made here: eval's last line, read, explain, help."""

import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import photosim as sim

ROOT = Path(__file__).resolve().parents[1]


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "digitlab", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, mnist):
    folder = tmp_path_factory.mktemp("photos")
    images, labels = sim.digit_set(mnist.x_test, mnist.y_test, 12, seed=99, kind="photo", condition="typical")
    rows = ["file,label"]
    for i, (img, y) in enumerate(zip(images, labels)):
        name = f"{y}_{i}.jpg"
        cv2.imwrite(str(folder / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        rows.append(f"{name},{y}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return folder / "labels.csv"


def test_eval_prints_table_and_accuracy_line(manifest):
    proc = run("eval", str(manifest))
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    m = re.fullmatch(r"accuracy=(\d\.\d{4}) n=(\d+)", last)
    assert m and int(m.group(2)) == 12 and float(m.group(1)) >= 0.9, proc.stdout
    assert "class" in proc.stdout


def test_eval_ablation_lists_each_stage(manifest):
    proc = run("eval", str(manifest), "--pipeline", "article", "--model", "softmax", "--ablation")
    assert proc.returncode == 0, proc.stderr
    for name in ("invert", "threshold", "center"):
        assert f"without {name}" in proc.stdout
    assert re.search(r"^accuracy=\d\.\d{4} n=12$", proc.stdout, re.M)


def test_eval_number_task(tmp_path, mnist):
    images, labels = sim.number_set(mnist.x_test, mnist.y_test, 4, seed=8)
    rows = ["file,label"]
    for i, (img, y) in enumerate(zip(images, labels)):
        cv2.imwrite(str(tmp_path / f"n{i}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        rows.append(f"n{i}.png,{y}")
    (tmp_path / "numbers.csv").write_text("\n".join(rows) + "\n")
    proc = run("eval", str(tmp_path / "numbers.csv"), "--task", "number")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^accuracy=\d\.\d{4} n=4$", proc.stdout.strip().splitlines()[-1])


def test_read_and_explain(tmp_path, mnist):
    img, label = sim.photo_number([mnist.x_test[0], mnist.x_test[1]], [int(mnist.y_test[0]), int(mnist.y_test[1])],
                                  np.random.default_rng(2), "clean", separators=False)
    path = tmp_path / "number.png"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    proc = run("read", str(path))
    assert proc.returncode == 0 and proc.stdout.strip().endswith(label), proc.stdout + proc.stderr
    sheet = tmp_path / "sheet.png"
    proc = run("explain", str(path), "--out", str(sheet))
    assert proc.returncode == 0 and sheet.is_file(), proc.stderr
    # explain may add model views after the answer line (issue 14); the answer line is there once.
    assert "Centre by mass" in proc.stdout
    assert sum(line.startswith("answer:") for line in proc.stdout.splitlines()) == 1, proc.stdout


def test_every_subcommand_has_help():
    for sub in ("data", "train", "predict", "eval", "read", "explain"):
        proc = run(sub, "--help", timeout=60)
        assert proc.returncode == 0 and "usage:" in proc.stdout


def test_missing_manifest_is_a_clear_error():
    proc = run("eval", "no/such/file.csv")
    assert proc.returncode == 2 and "no such manifest" in proc.stderr and "Traceback" not in proc.stderr


def test_explain_uses_the_apps_words_for_a_stage_state():
    from digitlab.visual import SWITCHED_OFF

    sketch = ROOT / "assets" / "examples" / "sketch_white_label9.png"
    proc = run("explain", str(sketch), "--skip", "polarity")
    assert proc.returncode == 0, proc.stderr
    line = next(l for l in proc.stdout.splitlines() if l.startswith("Make ink white"))
    assert SWITCHED_OFF in line


def test_explain_says_which_readings_it_left_out_and_can_weigh_them_all():
    photo = ROOT / "assets" / "examples" / "photo_typical_0_label6.jpg"
    runs = [run("explain", str(photo), *extra) for extra in ([], ["--every-reading"])]
    assert all(proc.returncode == 0 for proc in runs), [proc.stderr for proc in runs]
    answers = [[line for line in proc.stdout.splitlines() if line.startswith("answer:")] for proc in runs]
    assert answers[0] == answers[1] and answers[0][0].startswith("answer: 6 ("), answers
    fast, every = (proc.stdout.split("answer:")[0] for proc in runs)
    assert "could beat the kept reading" in fast and "could beat" not in every
    assert every.count(" -> rejected") > fast.count(" -> rejected")
