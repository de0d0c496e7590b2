"""Hypothesise and verify: each failure class of the rules, as a generated case, and the verifier's own judgement."""

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import photosim as sim
from conftest import mnist_digit, on_paper
from digitlab import negatives, segmentation, stageview
from digitlab import photo_stages as ps
from digitlab.pipeline import GIVE_WAY_TO, NOT_A_DIGIT_BELOW, NOT_A_DIGIT_BELOW_DRAWN, recognize
from digitlab.verifier import NOT_A_DIGIT, load_verifier, make_training_set, pen_drawn_frames


@pytest.fixture(scope="module")
def verifier():
    return load_verifier()


def read(image, **kw):
    return recognize(image, **kw)


def stage_of(result, name):
    """The chosen path's result at the stage called ``name``."""
    return next(s for s in result.stages if s.stage.name == name)


def third_renderer_photo(mnist, kind, seed, index):
    """Photo ``index`` of ``bench/third_renderer.py --seed SEED --kinds KIND`` as it writes it (JPEG), and its label."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import third_renderer as third

    image, (_, quality), _, label, _, _ = third.render_item(kind, mnist.x_test, mnist.y_test, seed, index)
    _, jpeg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB), label


def read_third_renderer_photo(mnist, kind, seed, index, digit):
    """``third_renderer_photo`` read by the robust pipeline, which must read it as its label, ``digit``."""
    photo, label = third_renderer_photo(mnist, kind, seed, index)
    result = read(photo)
    assert (label, result.digit) == (digit, digit), result.summary()
    return result


def test_bold_close_up_of_loop_digits_is_read_and_the_inverted_reading_rejected(mnist):
    # A marker digit filling most of the frame: the rules' polarity guess fails on many of these;
    # the inverted hypothesis turns the paper inside the loops into "ink", a blob the verifier rejects.
    rng = np.random.default_rng(31)
    results = []
    for label in (8, 0, 6, 9, 8, 0):
        digit = mnist_digit(mnist, label, int(rng.integers(50)))
        results.append((label, read(sim.photo_digit(digit, rng, "closeup", size=(800, 600)), every_reading=True)))
    correct = [r for label, r in results if r.digit == label]
    assert len(correct) >= 5, [(label, r.summary()) for label, r in results]
    shown_rejected = 0
    for r in correct:
        chosen = [a for a in r.alternatives if a.chosen]
        assert len(chosen) == 1 and chosen[0].verifier >= NOT_A_DIGIT_BELOW
        assert any("kept: light ink" in a.label for a in r.alternatives)  # the other polarity was tried
        shown_rejected += any(a.verifier < 0.5 for a in r.alternatives if a.reason is None)
    # The verifier rejects a wrong reading outright on all but one at most (the paper between a loop
    # and the frame can leave a thin tapered sliver, which passes for a 1 and loses on its prior instead).
    assert shown_rejected >= len(correct) - 1, "no rejected hypothesis shown"


def test_digits_on_saturated_yellow_and_pink_paper(mnist):
    rng = np.random.default_rng(32)
    labels = [int(d) for d in rng.integers(0, 10, 8)]
    images = [sim.photo_digit(mnist_digit(mnist, d, k), rng, "typical", paper="saturated") for k, d in enumerate(labels)]
    read_as = [read(i).digit for i in images]
    assert sum(r == d for r, d in zip(read_as, labels)) >= 7, (labels, read_as)


def green_paper_with_print(digit28, grain: float) -> np.ndarray:
    """A digit on bright green paper, a line of printed text above it; the paper's green channel clips at 255."""
    page = on_paper(digit28, size=(700, 700), scale=12, at=(0.5, 0.75), ink=(40, 90, 60), paper=(170, 255, 150))
    cv2.putText(page, "jwcypx fz", (30, 90), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (120, 190, 110), 9, cv2.LINE_AA)
    noise = np.random.default_rng(7).normal(0, grain, page.shape)
    return np.clip(page + noise, 0, 255).astype(np.uint8)


def test_coloured_paper_flat_in_the_one_channel_it_clips_is_a_photo_not_a_canvas(mnist):
    # Taken for a drawing's canvas, every mark is first read as one digit (a blind renderer's 0 below print read 2).
    zero = mnist_digit(mnist, 0, 3)
    photo = read(green_paper_with_print(zero, grain=4.0))
    assert photo.source == "photo" and photo.digit == 0, photo.summary()
    assert read(green_paper_with_print(zero, grain=0.0)).source == "canvas", "a flat coloured canvas is a drawing's"


def test_two_stroke_five_with_a_gap_keeps_both_strokes_on_a_canvas():
    for transparent in (True, False):
        image = sim.two_stroke_five(transparent=transparent)
        result = read(image)
        assert result.source == "canvas", "a clean canvas is taken for a drawing first"
        assert result.digit == 5, result.summary()
        isolated = stage_of(result, "isolate").image
        thresholded = stage_of(result, "threshold").image
        assert np.count_nonzero(isolated) == np.count_nonzero(thresholded), "a stroke was dropped"


def test_a_fives_flag_drawn_apart_and_reaching_beyond_the_body_joins_it(mnist):
    # The MNIST test 5s whose flag is a separate stroke sharing under half of the narrower one's columns (the only
    # four: 4076, 5618, 5706, 8348). Their bodies alone read as 0s and 2s, convincing the verifier; grouped only when
    # they shared half the columns, 6 of these 12 clean photos were read right (a blind renderer's 5618 read 0).
    rng = np.random.default_rng(5)
    results = [read(sim.photo_digit(mnist.x_test[i], rng, "clean")) for i in (4076, 5618, 5706, 8348) for _ in range(3)]
    assert all(r.digit == 5 for r in results), [r.summary() for r in results]


@pytest.mark.parametrize("width", [6, 12])
@pytest.mark.parametrize("transparent", [False, True])
def test_a_stroke_drawn_across_the_whole_canvas_is_the_digits_not_ruling(width, transparent):
    # A 1 drawn from the canvas's top to its bottom passed for an upright ruled line and was erased whole ("nothing
    # left to crop"); a 7 whose bar spans the canvas lost its bar and read as a 1.
    def canvas():
        return np.zeros((600, 600, 4), np.uint8) if transparent else np.full((600, 600, 3), 255, np.uint8)

    ink = (0, 0, 0, 255) if transparent else (0, 0, 0)
    one, seven = canvas(), canvas()
    cv2.line(one, (300, 30), (305, 570), ink, width)
    cv2.line(seven, (30, 100), (570, 100), ink, width)
    cv2.line(seven, (570, 100), (300, 560), ink, width)
    for image, label in ((one, 1), (seven, 7)):
        for source in ("auto", "drawing"):
            result = read(image, source=source)
            assert result.digit == label, (source, result.summary())
            stages = {s.stage.name: s.image for s in result.stages}
            assert np.count_nonzero(stages["lines"]) == np.count_nonzero(stages["threshold"]), "a stroke was erased"


def test_a_drawing_a_gap_splits_into_pieces_is_read_whole(mnist):
    # A piece of the line rubbed out (or the pen lifted) splits a 1 or a 7 in two: every stroke is kept, but the
    # pieces with a gap between look like a fragment to the verifier, which refused 6 of these 95 and let 2 more be
    # misread before the pieces were tried joined (87 right).
    rng = np.random.default_rng(70)
    results = []
    for k in range(240):
        label = (1, 7, 4, 5)[k % 4]
        image = sim.sketch_digit(mnist_digit(mnist, label, k // 4), rng, style="gap")
        if cv2.connectedComponents((image[..., 0] < 128).astype(np.uint8))[0] - 1 >= 2:
            results.append((label, read(image, source="drawing")))
    assert len(results) == 95
    assert sum(r.digit == label for label, r in results) >= 90, [(label, r.summary()) for label, r in results]
    assert sum(r.digit is None for _, r in results) <= 2
    assert any(a.chosen and "pieces joined across gaps" in a.label for _, r in results for a in r.alternatives)


def airbrushed_sketch(digit28, rng, side=300):
    """A small digit drawn with a broad airbrush on a white canvas: the stroke has no flat top, only a blurred ridge."""
    height = int(side * rng.uniform(0.3, 0.4))
    brush = rng.uniform(0.15, 0.2) * height
    mask = cv2.GaussianBlur(sim.pen_mask(digit28, height, brush, rng), (0, 0), 0.6 * brush)
    mask = np.clip(mask / mask.max(), 0, 1)
    alpha = np.zeros((side, side), np.float32)
    y, x = (side - mask.shape[0]) // 2, (side - mask.shape[1]) // 2
    alpha[y:y + mask.shape[0], x:x + mask.shape[1]] = mask[:side - y, :side - x]
    return np.repeat((255 * (1 - alpha)).astype(np.uint8)[..., None], 3, axis=2)


def test_an_airbrushed_sketch_is_read_from_its_core(mnist):
    # Otsu's level keeps the whole halo, so loops fill in and the digit is a blob ("nothing here looks like a
    # digit"); the core of the soft strokes, or their ridges, keep the shape. Read 30 of these 40 at Otsu's level
    # alone, 37 with the cores, 40 with the ridges too (7 decided by the ridges, 6 by a core).
    results, labels = [], []
    for seed in (50, 51, 52, 53):
        rng = np.random.default_rng(seed)
        for d in range(10):
            results.append(read(airbrushed_sketch(mnist_digit(mnist, d, 2), rng)))
            labels.append(d)
    assert sum(r.digit == d for r, d in zip(results, labels)) >= 39, [r.digit for r in results]
    from_soft = [r for r in results if any(a.chosen and ("only their core" in a.label or "only their ridges" in a.label)
                                           for a in r.alternatives)]
    assert len(from_soft) >= 10, "the soft strokes' core or ridges were not what decided"


def test_a_soft_sketch_whose_loop_the_blur_filled_is_read_from_its_ridges(mnist):
    # photosim's soft sketches, tuning seed 1000, #6: a 9 whose loop the blur filled; every other reading kept the
    # blob (read 0) or lost its thinner strokes. Of those 150 sketches, 146 were read right before the ridges, 147 now.
    import photosim as sim

    rng = np.random.default_rng(1000)
    picks = rng.choice(len(mnist.x_test), 150, replace=False)
    sketches = [sim.sketch_digit(mnist.x_test[i], rng, style="soft") for i in picks[:7]]
    assert mnist.y_test[picks[6]] == 9
    result = read(sketches[6])
    assert result.digit == 9
    assert any(a.chosen and "only their ridges" in a.label for a in result.alternatives)


def fat_brush_canvas(digit28, side=350, grow=25, size=(400, 500)):
    """A digit drawn with a broad brush filling the lower left of a white canvas (RGB)."""
    h, w = size
    big = np.clip((cv2.resize(digit28.astype(np.float32) / 255, (side, side), interpolation=cv2.INTER_CUBIC) - 0.3) * 4, 0, 1)
    big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    alpha = np.zeros((h, w), np.float32)
    alpha[h - side:, :side] = big
    return np.repeat((255 * (1 - alpha)).astype(np.uint8)[..., None], 3, axis=2)


def test_a_fat_brush_drawing_is_read_against_its_canvas_tone(mnist):
    # The brush covers so much that the local-contrast rule takes the canvas for ink: the reading had to overturn
    # the rule (when the verifier doubted the digit, a "blank image" from the rule's path won: second renderer,
    # fat brush, seed 1: 2 of 200). The canvas's own flat tone says which way is ink.
    for index in (9, 10, 13, 25):
        digit28, label = mnist.x_test[index], int(mnist.y_test[index])
        canvas = fat_brush_canvas(digit28)
        assert not ps.background_is_light(canvas[..., 0])  # the case: the photo rule is fooled
        assert ps.polarity_options(canvas[..., 0], ps.SOURCE_CANVAS)[0][0].startswith("inverted")
        result = read(canvas)
        chosen = next(a for a in result.alternatives if a.chosen)
        assert result.source == ps.SOURCE_CANVAS and result.digit == label, (index, result.summary())
        assert "polarity" not in chosen.overturned, chosen.label


def test_small_digit_beside_a_hard_shadow_edge(mnist):
    rng = np.random.default_rng(33)
    labels = [2, 7, 4, 3, 5, 9]
    read_as = [read(sim.shadowed_digit(mnist_digit(mnist, d, 3), rng)).digit for d in labels]
    assert sum(r == d for r, d in zip(read_as, labels)) >= 5, (labels, read_as)


def test_a_shadows_edge_joined_to_a_digit_by_the_other_lighting_does_not_make_the_digit_a_fragment(mnist):
    # A small red 0 that a hard shadow's edge touches: another lighting keeps part of the shadow with it, and that whole
    # read as a 2 (verifier 0.97), which charged the 0 as a fragment of it; what the shadow adds is no ink.
    # Photosim's hard photo 66 of tuning seed 1002, rendered alone from its generator's state there.
    rng = np.random.default_rng()
    rng.bit_generator.state = {"bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0, "state": {
        "state": 145496542021274562185564781297384582821, "inc": 197198657951681906595493522535810024969}}
    photo = sim.photo_digit(mnist.x_test[2106], rng, "hard")
    assert mnist.y_test[2106] == 0
    result = read(photo)
    assert result.digit == 0, result.summary()
    shadow_kept = [a for a in result.alternatives if a.overturned == ("lighting",) and a.digit == 2]
    assert shadow_kept and shadow_kept[0].verifier > 0.9 and not shadow_kept[0].chosen, result.summary()


def tiny_one_beside_a_shadow_wedge(digit28, k: int) -> np.ndarray:
    """A tiny 1 on squared paper, a hard-edged shadow wedge reaching towards it from the bottom of the frame."""
    image = on_paper(digit28, size=(900, 1200), scale=2, at=(0.35 + 0.02 * k, 0.15 + 0.03 * (k % 5)), ink=(40, 40, 60),
                     paper=(225, 225, 220)).astype(np.float32)
    for x in range(20, 1200, 40):
        cv2.line(image, (x, 0), (x, 899), (190, 195, 215), 1)
    for y in range(20, 900, 40):
        cv2.line(image, (0, y), (1199, y), (190, 195, 215), 1)
    light = np.ones((900, 1200), np.float32)
    cv2.fillConvexPoly(light, np.int32([[0, 899], [900 + 40 * (k % 4), 250], [700, 899]]), 0.45)
    image = cv2.GaussianBlur(image * light[..., None], (0, 0), 1.0) + np.random.default_rng(k % 4).normal(0, 5, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_a_refused_reading_gives_way_to_one_the_verifier_accepts(mnist):
    # The likeliest reading (shadow-following lighting) of a tiny 1 beside a hard shadow was refused as "not a digit"
    # (verifier 11-18%) while another reading was a 1 the verifier was sure of: 7 of these 12 read before, 9 now.
    photos = [tiny_one_beside_a_shadow_wedge(mnist_digit(mnist, 1, k), k) for k in range(12)]
    results = [read(photo) for photo in photos]
    assert sum(r.digit == 1 for r in results) >= 9, [r.summary() for r in results]
    for r in results:
        if r.digit is None and "looks like a digit" in r.reason:
            assert all(a.verifier < GIVE_WAY_TO for a in r.alternatives), r.summary()
    # Where the best reading is refused, every reading is weighed: the answer is the one weighing them all gives.
    for k in (3, 6):
        every, fast = read(photos[k], every_reading=True), results[k]
        assert (fast.digit, fast.reason) == (every.digit, every.reason) and fast.digit == 1


def test_broad_shadow_across_the_digit(mnist):
    """A shadow dims the ink's contrast with the paper's light: its shadowed half is scaled back up, or lost."""
    rng = np.random.default_rng(36)
    labels = [int(d) for d in rng.integers(0, 10, 20)]
    results = [read(sim.shadow_across_digit(mnist_digit(mnist, d, 9), rng)) for d in labels]
    # 14 of 20 with the ink's contrast left as the shadow made it.
    assert sum(r.digit == d for r, d in zip(results, labels)) >= 16, (labels, [r.digit for r in results])
    lighting = [stage_of(r, "lighting").choice or "" for r in results]
    assert any("shadowed ink scaled up" in c for c in lighting), lighting  # the ladder shows the scaling it took


def test_a_hard_shadow_across_a_digit_in_a_dim_grainy_photo(mnist):
    # Third renderer's tough photo 102 of tuning seed 9: a 6 whose loop lies in a hard shadow that takes 40% of a dim,
    # grainy page's light. The opening reads grainy paper lighter than it is, and the shadow's gain measured 1.49, under
    # the 1.5 that offered the scaled-up ink; only the stem stood out, and the 6 read 1.
    result = read_third_renderer_photo(mnist, "photo_tough", 9, 102, 6)
    lighting = stage_of(result, "lighting")
    assert "shadowed ink scaled up" in lighting.choice, result.summary()


def test_strokes_the_grain_broke_are_read_with_the_grain_smoothed(mnist):
    # Third renderer's tough photo 127 of tuning seed 13: a pencil 4 on grainy paper beside a hard shadow. The grain
    # broke its bar and left stroke into specks the threshold dropped, and the stem alone read 1, which the verifier
    # was sure of; so the grain-smoothed reading, a whole 4, was not weighed (its marks were taken to be only wider).
    result = read_third_renderer_photo(mnist, "photo_tough", 13, 127, 4)
    assert stage_of(result, "contrast").choice == ps.GRAIN_SMOOTHED, result.summary()


def test_ruling_found_only_in_the_grain_does_not_keep_a_fragment_apart(mnist):
    # Third renderer's tough photo 149 of tuning seed 11: a small pencil 9 on squared paper. The rule's path erased the
    # grid and the 9's loop with it (a 1, verifier 0.76); with the grain smoothed, the faint grid is no ruling and the 9
    # reads whole (1.00 / 1.00). The lines stage had chosen differently in the two, each by its rule, so the 1 was not
    # taken for a fragment of the 9.
    result = read_third_renderer_photo(mnist, "photo_tough", 11, 149, 9)
    assert stage_of(result, "contrast").choice == ps.GRAIN_SMOOTHED, result.summary()


def test_a_bolder_neighbour_the_frame_cuts_is_not_the_digit(mnist):
    # Third renderer's everyday photo 116 of tuning seed 13: a thin 1 in the middle and a bold 6 the frame's right side
    # cuts. The 6 had more ink and was the rule's choice, read 6 (verifier 0.98); the 1 (1.00 / 1.00) came second.
    result = read_third_renderer_photo(mnist, "photo_everyday", 13, 116, 1)
    assert stage_of(result, "isolate").choice == "the mark with the most ink", result.summary()


def test_a_fragment_is_found_whole_where_the_grain_joins_it_to_a_mark_the_frame_cuts(mnist):
    # Third renderer's tough photo 65 of tuning seed 10: a faint 5 on grainy paper, a piece of which reads 1 (1.00 /
    # 1.00). With the contrast stretched the grain joins the 5 to a mark the frame cuts: the fragment check takes the
    # candidate holding the 1's marks, whatever it is called there (matched by name, it missed the 5 and read 1).
    result = read_third_renderer_photo(mnist, "photo_tough", 10, 65, 5)
    assert stage_of(result, "contrast").choice.startswith("faint ink: contrast stretched"), result.summary()


def test_a_hard_shadow_beside_a_digit_does_not_make_it_a_fragment(mnist):
    # Third renderer's tough photo 28 of tuning seed 9: a hard shadow's edge crosses a bold 6. The paper-level lighting
    # keeps the shadow's brightest strip with the 6 (read 8); the smooth background reads the 6 alone. The strip stood
    # 15 grey levels above its surround, enough to pass as ink, and the 6 lost as a fragment of the "8". The 6's own
    # ink stands 68 levels above its paper: the strip is not the same pen's ink (``FRAGMENT_MORE_INK_SHARE``).
    result = read_third_renderer_photo(mnist, "photo_tough", 9, 28, 6)
    lighting = stage_of(result, "lighting")
    assert lighting.choice.startswith("smooth background subtracted"), result.summary()


# Photosim's generator state before hard photos 6 and 94 of tuning seed 1002, and the MNIST test digit each draws.
HARD_SHADOW_WEDGE_PHOTOS = {
    6: (5528, 209244153681207803323848991771333151357, 3799065668),
    94: (4271, 178373931884194498309523331049151618519, 447562451),
}


@pytest.mark.parametrize("index", sorted(HARD_SHADOW_WEDGE_PHOTOS))
def test_a_hard_shadows_edge_does_not_decide_which_way_ink_is(mnist, index):
    # A small pencil 5 on squared paper, a wedge of hard shadow beside it. Measured against its neighbourhood's median,
    # the lit paper at the wedge's edge stood out more than the 5's strokes, as light ink would: the polarity rule
    # kept the picture, the paper-is-the-median opinion disagreed, both readings were equal, and the kept one read a
    # piece of the shadow as 2 (verifier 0.71) and 7 (0.62). What a grey closing or opening takes away is a stroke, not
    # a step between tones: asked too, it disagrees, and the paper-is-the-median opinion decides.
    mnist_index, state, uinteger = HARD_SHADOW_WEDGE_PHOTOS[index]
    rng = np.random.default_rng()
    rng.bit_generator.state = {"bit_generator": "PCG64", "has_uint32": 0, "uinteger": uinteger, "state": {
        "state": state, "inc": 197198657951681906595493522535810024969}}
    photo = sim.photo_digit(mnist.x_test[mnist_index], rng, "hard")
    assert mnist.y_test[mnist_index] == 5
    result = read(photo)
    assert stage_of(result, "polarity").choice == ps.INVERTED, result.summary()
    # Photo 94's 5 is read whole and inverted, but as the rule's marks (the wedge, which the frame cuts, no longer comes
    # first) its faint flag makes it a 3 at 0.66; read across stroke widths, or without the grid's thin lines, a 5.
    assert any(a.digit == 5 and a.verifier > 0.9 for a in result.alternatives), result.summary()
    assert result.digit == 5 or index == 94, result.summary()
    rule = ps.polarity_options(stage_of(result, "grayscale").image)[0]
    assert rule[0] == ps.INVERTED and len(rule) == 2, rule[::2]  # the rule's own choice (an equal pair carries a prior)


@pytest.mark.parametrize("seed, index, digit", [(9, 123, 6), (11, 6, 7)])
def test_a_thin_digit_that_grain_breaks_is_read_smoothed(mnist, seed, index, digit):
    # Third renderer's everyday photos of tuning seeds 9 and 11: a pencil 6 on grainy paper, and a small 7 on ruled
    # paper. At the threshold the grain broke their strokes into pieces: the 6 read "no digit" and the 7 as 1. The
    # contrast stage's grain-smoothed picture keeps each stroke whole (``ps.GRAIN_SIGMA``).
    result = read_third_renderer_photo(mnist, "photo_everyday", seed, index, digit)
    contrast = stage_of(result, "contrast")
    assert contrast.choice == ps.GRAIN_SMOOTHED, result.summary()


def thin_pen_scan(digit28, seed: int, fade: float = 0.3) -> np.ndarray:
    """An MNIST digit written with a thin pen and scanned small (140x120, the digit 40 px tall), the top right
    quarter of its stroke ``fade`` as dark: a pen running dry, or a stroke covering part of a pixel."""
    rng = np.random.default_rng(seed)
    big = cv2.resize(digit28, (112, 112), interpolation=cv2.INTER_CUBIC) > 128
    stroke = cv2.dilate(cv2.erode(big.view(np.uint8), np.ones((5, 5))), np.ones((3, 3))).astype(np.float32)
    stroke[:56, 56:] *= fade
    page = np.zeros((140, 120), np.float32)
    y, x = 40 + rng.integers(-15, 15), 40 + rng.integers(-15, 15)
    page[y:y + 40, x:x + 40] = cv2.resize(stroke, (40, 40), interpolation=cv2.INTER_AREA)
    grey = np.clip(232 + rng.normal(0, 3, page.shape) - 180 * page, 0, 255).astype(np.uint8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)


def test_a_thin_stroke_that_fades_in_a_small_scan_is_kept_whole(mnist):
    # A register scan's 0 written with a thin pen whose top right is fainter: the threshold broke the loop open
    # there and it read 6 (four such 0s in real-scans now read 0). Lifting the faint tones keeps the stroke whole.
    for index in (0, 4, 5, 6, 7):
        result = read(thin_pen_scan(mnist_digit(mnist, 0, index), index))
        assert result.digit == 0, result.summary()
        assert stage_of(result, "contrast").choice == ps.THIN_STROKES_LIFTED, result.summary()


def test_grain_is_smoothed_only_on_a_photo_of_camera_size(mnist):
    """A scan's or a crop's strokes are a few pixels wide and a drawing has no grain: neither is offered it."""
    digit = mnist_digit(mnist, 7, 0)
    big = cv2.resize(digit, (ps.WORKING_SIDE, ps.WORKING_SIDE))
    small = cv2.resize(digit, (200, 200))

    def labels(picture, source):
        return [option[0] for option in ps.contrast_options(picture, source)]

    assert ps.GRAIN_SMOOTHED in labels(big, ps.SOURCE_PHOTO)
    assert ps.GRAIN_SMOOTHED not in labels(small, ps.SOURCE_PHOTO)
    assert ps.GRAIN_SMOOTHED not in labels(big, ps.SOURCE_CANVAS) + labels(big, ps.SOURCE_DRAWING)
    # Where no grain is smoothed, a photo's faint tones are lifted instead (a drawing's strokes are whole as drawn).
    assert ps.THIN_STROKES_LIFTED in labels(small, ps.SOURCE_PHOTO)
    assert ps.THIN_STROKES_LIFTED not in labels(big, ps.SOURCE_PHOTO) + labels(small, ps.SOURCE_CANVAS)


def test_digit_in_a_register_cell_with_borders(mnist):
    rng = np.random.default_rng(34)
    labels = [int(d) for d in rng.integers(0, 10, 10)]
    read_as = [read(sim.register_digit(mnist_digit(mnist, d, 5), rng)).digit for d in labels]
    assert sum(r == d for r, d in zip(read_as, labels)) >= 8, (labels, read_as)


def scan_with_border_piece(digit28, side=16, size=(240, 120)):
    """A small register scan: a small pen digit mid-cell, and low beside it a piece of the cell's upright
    border (2 px wide, a quarter of the height) that has more ink than the digit and reads as a perfect 1."""
    h, w = size
    page = np.full(size, 225, np.uint8)
    small = cv2.resize(digit28, (side, side), interpolation=cv2.INTER_AREA).astype(np.int32)
    y, x = h // 3, w // 2
    page[y:y + side, x:x + side] = 225 - small * 180 // 255
    page[int(0.7 * h):int(0.95 * h), w // 5:w // 5 + 2] = 70
    grain = np.random.default_rng(int(digit28.sum())).normal(0, 4, size)  # a scan's paper, not a flat canvas
    return cv2.cvtColor(np.clip(page + grain, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2RGB)


def test_a_leftover_piece_of_a_cell_border_is_not_the_digit(mnist):
    # Too short for the line eraser, the border's piece is an upright hairline: it is tried after the real
    # marks (the code before read 27 of these 30 as a 1).
    results = [(d, read(scan_with_border_piece(mnist_digit(mnist, d, i)))) for d in range(10) for i in range(3)]
    assert sum(r.digit == d for d, r in results) >= 28, [(d, r.summary()) for d, r in results]
    weighed = [read(scan_with_border_piece(mnist_digit(mnist, 0, i)), every_reading=True) for i in range(3)]
    assert all(any(a.label.endswith("a line or edge; gaps closed") for a in r.alternatives) for r in weighed)


def test_faint_pencil_in_dim_light(mnist):
    """Ink under the threshold's fixed contrast: the stretched reading is tried and the verifier takes it."""
    rng = np.random.default_rng(35)
    labels = [int(d) for d in rng.integers(0, 10, 10)]
    results = [read(sim.faint_digit(mnist_digit(mnist, d, 7), rng)) for d in labels]
    assert sum(r.digit == d for r, d in zip(results, labels)) >= 8, (labels, [r.digit for r in results])
    contrast = [stage_of(r, "contrast").choice or "" for r in results]
    assert sum("faint ink" in c for c in contrast) >= 8, contrast  # the ladder shows the stretch it took


def test_pencil_pressed_harder_at_one_side_is_read_whole(mnist):
    """Faint ink that fades across the digit: the threshold's fixed level keeps only its stronger side (a 7's
    stem, a 1), a convincing digit by itself. With the contrast stretched the same choices find more ink around
    those marks, so the stretch is weighed too, and the piece is a fragment of the whole digit (22 of 30 before)."""
    rng = np.random.default_rng(37)
    labels = [int(d) for d in rng.integers(0, 10, 30)]
    results = [read(sim.uneven_pencil_digit(mnist_digit(mnist, d, 11), rng, weakest=0.4)) for d in labels]
    assert sum(r.digit == d for r, d in zip(results, labels)) >= 26, [(d, r.summary()) for d, r in zip(labels, results)]
    contrast = [stage_of(r, "contrast").choice or "" for r in results]
    assert sum("faint ink" in c for c in contrast) >= 5, contrast  # the ladder shows the stretch it took


def blank_paper():
    rng = np.random.default_rng(0)
    return np.clip(235 + rng.normal(0, 3, (600, 800, 3)), 0, 255).astype(np.uint8)


def non_digit_images():
    """Photos of paper with something that is not a digit on it."""
    images = {}
    paper = blank_paper()
    blob = paper.copy()
    cv2.ellipse(blob, (400, 300), (160, 120), 20, 0, 360, (30, 30, 30), -1)
    images["a solid blob"] = blob
    bar = paper.copy()
    cv2.line(bar, (200, 260), (600, 330), (30, 30, 30), 22)
    images["a thick slanted bar"] = bar
    edge = paper.copy()
    edge[:, :300] = 40
    images["a table edge"] = edge
    grid = paper.copy()
    for k in range(0, 800, 40):
        cv2.line(grid, (k, 0), (k, 600), (150, 170, 215), 2)
        cv2.line(grid, (0, k), (800, k), (150, 170, 215), 2)
    images["squared paper only"] = grid
    noise = np.random.default_rng(1).integers(0, 256, (600, 800, 3)).astype(np.uint8)
    images["noise"] = noise
    images["blank paper"] = paper
    # Dim, grainy paper: stretching its faint texture must not find a digit in it.
    dim = 150 + 0.02 * np.arange(800) + np.random.default_rng(2).normal(0, 2, (600, 800))
    images["dim blank paper"] = np.repeat(np.clip(dim, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    return images


@pytest.mark.parametrize("name", list(non_digit_images()))
def test_non_digits_are_refused(name):
    result = read(non_digit_images()[name])
    assert result.digit is None, f"{name} read as {result.summary()}"
    assert result.reason


def test_empty_pages_photographed_read_as_no_digit():
    """Grain stretched as faint ink, or a shadow's soft edge, is no ink: its marks barely stand above the paper."""
    rng = np.random.default_rng(7)
    results = [read(sim.empty_photo(rng, condition)) for condition in ("typical", "hard", "closeup") for _ in range(15)]
    # 10 of these 45 read as a digit (1, 3, 4, 7, 8) before marks had to stand above the paper; 1 after.
    assert sum(r.digit is not None for r in results) <= 4, [r.summary() for r in results]
    faint = [r for r in results if "looks like ink" in (r.reason or "")]
    assert faint
    # The alternatives say which reading was refused, and why.
    assert all(any(a.chosen and "not ink" in a.describe() for a in r.alternatives) for r in faint)


def test_verifier_accepts_mnist_test_digits_and_rejects_held_out_negatives(verifier, mnist):
    accepted = verifier.digit_scores(mnist.x_test) >= 0.5
    assert accepted.mean() >= 0.985, accepted.mean()
    images, labels = make_training_set(mnist.x_test, mnist.y_test, 600, 1200, seed=4242)
    scores = verifier.digit_scores(images)
    negative = labels == NOT_A_DIGIT
    assert (scores[negative] < 0.5).mean() >= 0.95
    assert (scores[~negative] >= 0.5).mean() >= 0.97
    kinds = [g.__name__ for g in negatives.GENERATORS]
    for k, kind in enumerate(kinds):
        assert (scores[negative][k::len(kinds)] < 0.5).mean() >= 0.7, kind
    # Drawn with a pen of one width, as a canvas draws: a digit all the same.
    drawn, _ = pen_drawn_frames(mnist.x_test, mnist.y_test, 600, np.random.default_rng(4243))
    assert (verifier.digit_scores(np.stack(drawn)) >= 0.5).mean() >= 0.97


def test_the_result_shows_the_decision(mnist):
    rng = np.random.default_rng(35)
    result = read(sim.photo_digit(mnist_digit(mnist, 3, 1), rng, "typical"), every_reading=True)
    chosen = [a for a in result.alternatives if a.chosen]
    assert len(chosen) == 1 and chosen[0].digit == result.digit
    assert len(result.alternatives) >= 2
    assert [s.choice for s in result.stages if s.choice is not None] == chosen[0].label.split("; ")
    # Every decision is on the ladder; a fallback (faint ink) only where the first readings convinced no one.
    assert all(s.choice is not None for s in result.stages if s.stage.options is not None and not s.stage.fallback)


def test_readings_left_out_could_not_have_won(mnist):
    """A photo's readings that overturn a rule are left out only where the kept one beats every prior among them:
    the answer, its reason and the reading kept are those of weighing every reading, and the result says why."""
    rng = np.random.default_rng(36)
    photos = [sim.photo_digit(mnist_digit(mnist, d, 2), rng, kind) for d, kind in
              zip(range(10), ("typical", "hard", "closeup", "typical", "hard", "closeup", "typical", "hard", "typical",
                              "closeup"))]
    photos.append(sim.photo_digit(mnist_digit(mnist, 4, 3), rng, "typical", size=(3000, 4000)))
    left_out = 0
    for photo in photos:
        every, fast = read(photo, every_reading=True), read(photo)
        assert (fast.digit, fast.reason) == (every.digit, every.reason)
        kept = [[a.label for a in r.alternatives if a.chosen] for r in (every, fast)]
        assert kept[0] == kept[1]
        assert {a.label for a in fast.alternatives} <= {a.label for a in every.alternatives}
        assert every.left_out is None
        if fast.left_out is not None:
            left_out += 1
            assert len(fast.alternatives) < len(every.alternatives)
            assert fast.left_out.kept_score > fast.left_out.prior
            assert "could beat the kept reading" in stageview.alternatives_table(fast.alternatives, fast.left_out)
    assert left_out >= len(photos) // 2


def test_a_drawing_the_verifier_doubts_is_still_read(mnist, cnn):
    """Someone drew what is on a canvas: only a near-certain "not a digit" refuses it; the same doubt refuses a photo."""
    seven = mnist.x_test[1903]  # a crossed 7 with a long bar: the verifier gives it 4-6% drawn with a round pen
    assert mnist.y_test[1903] == 7
    image = sim.sketch_digit(seven, np.random.default_rng(0), side=600)
    result = recognize(image, classifier=cnn, source="drawing")
    doubt = result.verifier
    assert NOT_A_DIGIT_BELOW_DRAWN <= doubt < NOT_A_DIGIT_BELOW, doubt  # the case this rule is for
    assert result.digit == 7, result.summary()
    assert recognize(image, classifier=cnn, source="photo").digit is None


def askew_squared_paper_photo(digit28, rng):
    """A digit on squared paper photographed a little askew (the page's corners off by up to 4%): thin grid
    lines, none level or upright, light falling off across the page, blurred and JPEG-compressed."""
    h, w = 720, 1280
    img = np.full((h, w, 3), (235, 235, 230), np.float32) * rng.uniform(0.97, 1.03, 3)
    step = int(rng.integers(35, 70))
    for k in range(int(rng.integers(step)), w, step):
        cv2.line(img, (0, k), (w, k), (150, 170, 215), int(rng.integers(1, 3)))
        cv2.line(img, (k, 0), (k, h), (150, 170, 215), int(rng.integers(1, 3)))
    side = int(rng.uniform(0.15, 0.5) * h)
    big = np.clip((cv2.resize(digit28.astype(np.float32) / 255, (side, side), interpolation=cv2.INTER_CUBIC) - 0.35) * 3, 0, 1)
    big = cv2.GaussianBlur(big, (0, 0), 0.8)[..., None] * rng.uniform(0.8, 1.0)
    x, y = int(rng.uniform(0.2, 0.8) * w - side / 2), int(rng.uniform(0.2, 0.8) * h - side / 2)
    x, y = int(np.clip(x, 0, w - side)), int(np.clip(y, 0, h - side))
    img[y:y + side, x:x + side] = img[y:y + side, x:x + side] * (1 - big) + np.array((90, 90, 95)) * big  # pencil-grey
    gx, gy = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
    angle = rng.uniform(0, 2 * np.pi)
    img *= (1 - rng.uniform(0, 0.25) * (np.cos(angle) * gx + np.sin(angle) * gy + 1) / 2)[..., None]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    skew = corners + rng.uniform(-0.04, 0.04, (4, 2)).astype(np.float32) * h
    img = cv2.warpPerspective(img, cv2.getPerspectiveTransform(corners, skew), (w, h), borderMode=cv2.BORDER_REPLICATE)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.8)) + rng.normal(0, 4, img.shape)
    _, jpeg = cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 75])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def test_a_digit_on_squared_paper_photographed_askew(mnist):
    # No grid line is straight along the rows or columns, and the threshold breaks them, so none is found
    # as ruling; the broken grid clings to the digit and the crop is a lattice ("nothing looks like a digit").
    # (Read 5 of these 8 before the thin-lines hypothesis; the misses were "no digit".)
    rng = np.random.default_rng(35)
    labels = [9, 0, 6, 1, 4, 7, 3, 8]
    read_as = [read(askew_squared_paper_photo(mnist_digit(mnist, d, 5), rng)).digit for d in labels]
    assert sum(r == d for r, d in zip(read_as, labels)) >= 7, (labels, read_as)


@pytest.mark.parametrize("seed, index, digit", [(9, 54, 6), (11, 123, 2)])
def test_a_digit_with_grid_pieces_clinging_is_read_without_them(mnist, seed, index, digit):
    # Third renderer's everyday photos (tuning seeds): a 6 that the squared paper's grid lines cross read 8 (verifier
    # 0.79), a 2 on a tiled floor read 7 (0.75); the same mark's biggest stroke alone read right at 1.00, but as an
    # overturned choice of marks it lost. Where that stroke is most of the mark, the rule is unsure between the two.
    result = read_third_renderer_photo(mnist, "photo_everyday", seed, index, digit)
    isolate = stage_of(result, "isolate")
    assert isolate.choice == segmentation.BIGGEST_STROKE, result.summary()  # the ladder shows the cleaned mark


def test_a_narrow_digit_drawn_with_a_bold_pen_is_thinned_when_nothing_else_convinces(mnist):
    # MNIST test #3030 is a 6 five times as tall as wide. Drawn with a pen a ninth of its height (within the
    # width the stroke stage leaves alone), the pen fills its narrow loop and the verifier calls it no digit
    # (0.0001 before the fallback: 6 of these 6 at the middle pen width read "no digit").
    narrow_six = mnist.x_test[3030]
    assert mnist.y_test[3030] == 6
    results = []
    for height in (300, 440):
        for seed in range(3):
            mask = sim.pen_mask(narrow_six, height, 0.115 * height, np.random.default_rng(seed))
            alpha = np.zeros((600, 600), np.float32)
            alpha[40:40 + mask.shape[0], 200:200 + mask.shape[1]] = mask
            canvas = np.zeros((600, 600, 4), np.uint8)  # black ink on a transparent canvas
            canvas[..., 3] = (alpha * 255).astype(np.uint8)
            results.append(read(canvas))
    assert [r.digit for r in results] == [6] * 6
    assert any(a.chosen and a.label.endswith("bold strokes thinned") for r in results for a in r.alternatives)


def test_a_one_drawn_with_a_brush_a_third_as_wide_as_tall_is_thinned_as_far_as_it_survives(mnist):
    # Thinning such a stroke to MNIST's width erases it, so the stroke stage left it a blob that the verifier
    # refused (second renderer, fat brush, seed 1: a plain 1 read "no digit"; here 6 of these 12 read
    # "no digit" and one read 8 before this fallback).
    ones = np.flatnonzero(mnist.y_test == 1)[:12]
    results = [read(fat_brush_canvas(mnist.x_test[i], side=140, grow=16, size=(300, 300))) for i in ones]
    assert [r.digit for r in results] == [1] * 12
    assert any(a.chosen and a.label.endswith("thinned as far as they survive") for r in results for a in r.alternatives)



def page_on_a_dark_desk_photo(digit28, rng, note=False, desk_share="a third", pencil=140):
    """A sheet (or a yellow sticky note) running off the frame's left and bottom, on a dark desk that fills the
    top and right (a third of the frame or more; "most": two thirds), with a pencil-grey digit on it; light falling
    off, blurred, JPEG."""
    h, w = 900, 1200
    img = np.full((h, w, 3), rng.uniform(15, 45), np.float32) + rng.normal(0, 6, (h, w, 3))  # a dark, grainy desk
    corners = np.float32([[-0.1, 0.3], [0.7, 0.05], [0.65, 1.1], [-0.1, 1.1]] if desk_share == "a third" else
                         [[-0.1, 0.4], [0.5, 0.3], [0.5, 1.1], [-0.1, 1.1]]) * (w, h)
    corners += rng.uniform(-0.05, 0.05, (4, 2)).astype(np.float32) * h
    paper = (95, 230, 250) if note else (215, 205, 200)  # BGR: a yellow note, or bluish white paper
    cv2.fillConvexPoly(img, corners.astype(np.int32), paper)
    side = int(rng.uniform(0.2, 0.3) * h)
    big = np.clip((cv2.resize(digit28.astype(np.float32) / 255, (side, side), interpolation=cv2.INTER_CUBIC) - 0.35) * 3, 0, 1)
    big = cv2.GaussianBlur(big, (0, 0), 0.8)[..., None] * rng.uniform(0.7, 0.9)
    x = int((0.25 if desk_share == "a third" else 0.12) * w + rng.integers(-60, 60))
    y = int(0.5 * h + rng.integers(-40, 40))
    img[y:y + side, x:x + side] = img[y:y + side, x:x + side] * (1 - big) + np.array((pencil, pencil, pencil + 5)) * big
    gx, gy = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
    img *= (1 - rng.uniform(0, 0.2) * (gx + 1) / 2)[..., None]
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5)) + rng.normal(0, 3, img.shape)
    _, jpeg = cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("note", [False, True])
def test_a_page_on_a_dark_desk_is_read_on_the_page_alone(mnist, note):
    # The desk is much of the photo and the pencil faint: Otsu's level fell between desk and page and dropped the
    # pencil ("no digit": 3 of these 6 white pages before the page-alone option). The note must read as well.
    rng = np.random.default_rng(41 + note)
    labels = [5, 2, 8, 3, 0, 6]
    read_as = [read(page_on_a_dark_desk_photo(mnist_digit(mnist, d, 3), rng, note)).digit for d in labels]
    assert sum(r == d for r, d in zip(read_as, labels)) >= 5, (labels, read_as)


def test_a_small_note_on_a_wooden_desk_is_the_paper(mnist):
    # Third renderer's everyday photo 119 of tuning seed 10: a white note cut by the frame's edge, on an orange wooden
    # desk, a 7 on it. The note covers under 15% of the frame, so no page was found: the desk was taken for the paper,
    # and a streak of its grain read 1 (verifier 1.00). A page from 6% of the frame makes the polarity unsure.
    result = read_third_renderer_photo(mnist, "photo_everyday", 10, 119, 7)
    polarity = stage_of(result, "polarity")
    assert polarity.choice.startswith("inverted"), result.summary()


def test_a_page_on_a_desk_that_fills_most_of_the_frame_is_dark_ink_on_light_paper(mnist):
    """The desk is two thirds of the photo: the median and the local-contrast rule both take it for the background,
    so the rule keeps the tones (the page read as light ink). A light page on a darker surround makes the two
    readings of polarity equal, and the verifier reads the digit on the page (1 of these 6 before; tough photos of
    the third renderer, tuning seed 9: a page on a desk read as "no digit"). 10 of these 12 read right before."""
    labels = [3, 5, 2, 8, 6, 0]
    photos = [page_on_a_dark_desk_photo(mnist_digit(mnist, d, 4), rng, desk_share="most", pencil=165)
              for rng in (np.random.default_rng(7), np.random.default_rng(9)) for d in labels]
    rules = [ps.polarity_options(ps.coloured_paper_grayscale(ps.working_size(p)))[0][0] for p in photos]
    assert rules.count(ps.KEPT) >= 10, rules  # the case in question: the rule takes the desk for the background
    read_as = [read(p).digit for p in photos]
    assert sum(r == d for r, d in zip(read_as, 2 * labels)) >= 11, (labels, read_as)


def red_ink_on_an_orange_note(digit28, rng):
    """Pale red ink on an orange sticky note, the light falling off to the corners: the ink fades into the paper
    in the darkest channel (blue) and in the paper's brightest (red); only green holds it."""
    h, w = 900, 1200
    img = np.empty((h, w, 3), np.float32)
    img[:] = (241, 179, 104)
    side = int(rng.uniform(0.25, 0.35) * h)
    ink = cv2.resize(digit28, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)[..., None] / 255
    x, y = int(rng.integers(200, 700)), int(rng.integers(150, 500))
    img[y:y + side, x:x + side] = img[y:y + side, x:x + side] * (1 - ink) + np.float32((228, 118, 98)) * ink
    gx, gy = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
    img *= (1 - 0.35 * np.clip(gx * gx + gy * gy - 0.3, 0, None))[..., None]
    img = cv2.GaussianBlur(img, (0, 0), 1.0) + rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_red_ink_on_an_orange_note_is_read_in_the_channel_that_holds_it(mnist):
    # "No digit" for all 8 when only the darkest channel and the paper's brightest were offered (the third
    # renderer's everyday photos, tuning seed 9: a red 4 on an orange note).
    rng = np.random.default_rng(5)
    labels = [4, 7, 2, 9, 5, 3, 8, 1]
    read_as = [read(red_ink_on_an_orange_note(mnist_digit(mnist, d, 1), rng)) for d in labels]
    assert [r.digit for r in read_as] == labels
    assert all(r.stages[2].choice == "the green channel" for r in read_as), [r.stages[2].choice for r in read_as]
