"""The simulator draws what its labels say: a pen following the digit, on a page the camera sees."""

import cv2
import numpy as np

from conftest import mnist_digit
import photosim as sim


def test_prune_spurs_removes_a_short_branch_and_keeps_the_stroke():
    skel = np.zeros((60, 60), np.uint8)
    skel[10:50, 30] = 1  # a long stroke...
    for k in range(1, 5):
        skel[30 - k, 30 + k] = 1  # ...with a 4 px spur off its middle
    pruned = sim.prune_spurs(skel, 6)
    assert pruned[10:50, 30].all()  # the stroke keeps its full length, ends included
    assert pruned[:, 32:].sum() == 0  # the spur is gone (its root pixel touches the stroke, under the pen anyway)
    short = np.zeros((10, 10), np.uint8)
    short[3, 2:7] = 1  # a whole digit shorter than the pruning length (a dot, a tiny 1)
    assert np.array_equal(sim.prune_spurs(short, 6), short)  # kept, not pruned away


def test_filled_loop_stays_filled_in_the_pen_redraw(mnist):
    # MNIST's 6s often have a filled loop; a centre-line redraw alone would turn them into a 1.
    digit = mnist_digit(mnist, 6)
    mask = sim.pen_mask(digit, 280, 20, np.random.default_rng(0))
    ink = (mask > 0.5).astype(np.uint8)
    original = cv2.resize((digit > 100).astype(np.uint8), (0, 0), fx=10, fy=10, interpolation=cv2.INTER_NEAREST)
    # The redraw covers the lower half (the loop) about as much as the original digit does.
    lower = lambda m: m[m.shape[0] // 2:].mean()  # noqa: E731
    assert lower(ink) > 0.5 * lower(original[original.any(1)][:, original.any(0)])


def test_the_table_covers_only_a_strip_of_the_frame(mnist):
    for seed in range(40):
        rng = np.random.default_rng(seed)
        photo = sim.photo_digit(mnist.x_test[seed], rng, "hard", size=(300, 400))
        assert photo.mean() > 60, seed  # a table over the whole frame is dark
