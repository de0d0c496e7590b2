"""Segmentation: the ink's connected marks, which of them are page edges or specks, and which strokes form one digit.

Shared by the single-digit pipeline (``isolate_digit``) and the number reader.
"""

from __future__ import annotations

import cv2
import numpy as np

from .errors import NoDigit

def bounding_box(image: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the non-zero pixels, bottom/right exclusive; None if empty."""
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def components(mask: np.ndarray):
    """``cv2.connectedComponentsWithStats`` (8-connected), run only on the box around the ink.

    Its statistics pass costs ~1 ms per 600x600 image however little ink there is; a sketch's
    ink fills a small part of the canvas. Labels and stats come back in full-image coordinates.
    """
    x, y, bw, bh = cv2.boundingRect(mask)
    labels = np.zeros(mask.shape, np.int32)
    if bw == 0:
        return 1, labels, np.array([[0, 0, mask.shape[1], mask.shape[0], mask.size]], np.int32)
    n, labels[y:y + bh, x:x + bw], stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(mask[y:y + bh, x:x + bw]), connectivity=8)
    stats[1:, 0] += x
    stats[1:, 1] += y
    return n, labels, stats



def _lies_along_border(labels: np.ndarray, i: int, box, shape) -> bool:
    """Whether component ``i`` lies along an image side: a page edge or a dark table, not a digit.

    It does when it covers over 30% of a side, or over 10% of a side and most of its own
    extent along that side (a tilted table edge that the threshold broke into pieces). A digit
    cut by the frame touches the side only where its strokes cross it.
    """
    x, y, bw, bh = box
    h, w = shape
    runs = []  # (pixels on the side, side length, own extent along it)
    if y == 0:
        runs.append((np.count_nonzero(labels[0, x:x + bw] == i), w, bw))
    if y + bh == h:
        runs.append((np.count_nonzero(labels[h - 1, x:x + bw] == i), w, bw))
    if x == 0:
        runs.append((np.count_nonzero(labels[y:y + bh, 0] == i), h, bh))
    if x + bw == w:
        runs.append((np.count_nonzero(labels[y:y + bh, w - 1] == i), h, bh))
    return any(n > 0.3 * side or (n > 0.1 * side and n > 0.5 * extent) for n, side, extent in runs)


# A page edge's ink is at most this share of its length squared (a 3 px line 100 px long: 0.03; digits 0.1+).
PAGE_EDGE_MAX_FILL = 0.08


def _is_page_edge(x: int, y: int, bw: int, bh: int, h: int, w: int, area: int) -> bool:
    """A long, thin mark near the image border running along it: the edge of the page.

    Thin means little ink for its length: a digit that fills a tight crop's height (the first
    digit of a cheque amount) is near the border and long too, but it is no line.
    """
    if area > PAGE_EDGE_MAX_FILL * max(bw, bh) ** 2:
        return False
    touches_top_or_bottom = y == 0 or y + bh == h
    touches_left_or_right = x == 0 or x + bw == w
    if (bh >= 0.8 * h or (touches_top_or_bottom and bh >= 0.5 * h)) and bw < 0.2 * w:
        centre = (x + bw / 2) / w
        return centre < 0.2 or centre > 0.8
    if (bw >= 0.8 * w or (touches_left_or_right and bw >= 0.5 * w)) and bh < 0.2 * h:
        centre = (y + bh / 2) / h
        return centre < 0.2 or centre > 0.8
    return False


# A flat stroke this many times wider than tall, under another mark, underlines it (registers, amounts).
UNDERLINE_FLATNESS = 3


def _underlines(line, mark) -> bool:
    """Whether box ``line`` is a flat stroke lying below ``mark``: an underline, not a 5's or 7's bar."""
    lx, ly, lw, lh = line
    mx, my, mw, mh = mark
    return lw >= UNDERLINE_FLATNESS * lh and ly + lh / 2 > my + 0.8 * mh and lw >= 0.5 * mw


# A flag (a 5's, a 7's bar) is a stroke at least this many times wider than tall ...
FLAG_FLATNESS = 2
# ... at most this share of the body's height, which shares at least FLAG_OVERLAP of the narrower one's width.
FLAG_MAX_HEIGHT = 0.5
FLAG_OVERLAP = 0.25


def _flag_over(flag, body, overlap: float) -> bool:
    """Whether box ``flag`` is a flat stroke just above ``body`` (a gap of under a quarter of its height),
    sharing some of its columns: a 5's flag drawn apart and reaching out to the right of the body."""
    fx, fy, fw, fh = flag
    bx, by, bw, bh = body
    gap = by - (fy + fh)
    return (fw >= FLAG_FLATNESS * fh and fh < FLAG_MAX_HEIGHT * bh and 0 <= gap < 0.25 * bh
            and overlap > FLAG_OVERLAP * min(fw, bw))


def same_digit(a, b) -> bool:
    """Whether two ink boxes (x, y, w, h) are strokes of one digit.

    Either they share columns and nearly touch vertically (a 5's detached bar), or a flat stroke
    lies just above another and shares some of its columns (a 5's flag drawn apart, reaching out
    beyond the body), or a short stroke sits beside a tall one, within its height and almost
    touching it (a 4 in two strokes).
    """
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    overlap = min(ax + aw, bx + bw) - max(ax, bx)
    vertical_gap = max(by - (ay + ah), ay - (by + bh), 0)
    if _underlines(a, b) or _underlines(b, a):
        return False
    if overlap > 0.5 * min(aw, bw) and vertical_gap < 0.25 * max(ah, bh):
        return True
    if _flag_over(a, b, overlap) or _flag_over(b, a, overlap):
        return True
    (sx, sy, sw, sh), (tx, ty, tw, th) = sorted((a, b), key=lambda r: r[3])  # short, tall
    horizontal_gap = max(tx - (sx + sw), sx - (tx + tw), 0)
    within = sy >= ty - 0.4 * th and sy + sh <= ty + 1.1 * th
    merged_width = max(sx + sw, tx + tw) - min(sx, tx)
    merged_height = max(sy + sh, ty + th) - min(sy, ty)
    upper = sy + sh / 2 < ty + 0.6 * th  # dots, commas and hyphens sit low or are flat
    return 0.3 * th <= sh < 0.7 * th and upper and within and horizontal_gap < 0.1 * th and merged_width <= merged_height


def ink_components(ink: np.ndarray):
    """Connected components of the ink that can be part of a digit, with their stats.

    Returns (labels, stats, keep): components too small (specks), or touching the border
    while spanning most of it (page edge, table), are not kept.
    """
    h, w = ink.shape
    mask = (ink > 0).view(np.uint8)
    n, labels, stats = components(mask)
    if n <= 1:
        return labels, stats, []
    floor = max(4, 0.0002 * h * w)
    candidates = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area < floor:
            continue
        touches = (x == 0) + (y == 0) + (x + bw == w) + (y + bh == h)
        if touches and _lies_along_border(labels, i, (x, y, bw, bh), (h, w)):
            continue  # page edge or dark table around the page: it runs along the border
        if _is_page_edge(x, y, bw, bh, h, w, area):
            continue
        candidates.append(i)
    if not candidates:
        return labels, stats, []
    # Specks are small next to the biggest mark left (not next to a table edge dropped above).
    biggest = max(stats[i, cv2.CC_STAT_AREA] for i in candidates)
    keep = [i for i in candidates if stats[i, cv2.CC_STAT_AREA] >= 0.03 * biggest]
    return labels, stats, keep


def _merged(a, b) -> list[int]:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    return [x0, y0, max(a[0] + a[2], b[0] + b[2]) - x0, max(a[1] + a[3], b[1] + b[3]) - y0]


def group_strokes(stats: np.ndarray, keep: list[int]) -> list[tuple[list[int], list[int]]]:
    """Marks grouped into digits: (component ids, merged box x, y, w, h) per group.

    Two groups merge whenever their boxes are ``same_digit``, until no pair does; the merged
    box is what the next test sees, so a 5's bar joins its body even when drawn far apart.
    """
    groups = [([i], list(stats[i, :4])) for i in keep]
    merged = True
    while merged:
        merged = False
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                if same_digit(groups[a][1], groups[b][1]):
                    groups[a] = (groups[a][0] + groups[b][0], _merged(groups[a][1], groups[b][1]))
                    groups.pop(b)
                    merged = True
                    break
            if merged:
                break
    return groups


# Too many marks for one digit on paper: noise, text or texture (and the grouping would be slow).
MAX_MARKS = 40
# More ink than this fraction of the image is texture or a wrongly inverted page, not a digit on paper.
MAX_INK_FRACTION = 0.45
# How many groups of marks, by ink, the pipeline tries as "the digit".
DIGIT_GROUP_CANDIDATES = 3
# With this few marks, all of them together is also tried (strokes that no grouping rule joins).
ALL_MARKS_UP_TO = 4


# A verifier cannot tell a long thin bar from a 1; such a bar is the digit only when nothing else reads as one.
EDGE_LIKE_PRIOR = 0.01
# A bar longer than this share of the frame and thinner than this share of its length looks like ruling.
RULE_LINE_SPAN = 0.6
RULE_LINE_THINNESS = 0.12
# A straight bar this many times longer than thick and within HAIRLINE_TILT degrees of upright (or level), however
# short, is a piece of ruling or a cell border the line eraser left, not a pen's 1: people write 1s slanted,
# or with a pen wider than 1/HAIRLINE_ELONGATION of their height.
HAIRLINE_ELONGATION = 15
# Ruling and cell borders scanned or photographed squarely are this close to the axes (ruling further askew, along
# most of the frame or in a lattice, is erased by the Hough search: MAX_RULING_TILT in photo_stages); a written 1
# leans further more often than not.
HAIRLINE_TILT = 4.0
# Straight: its course wavers by at most about its own thickness (the box around it is at most this many times as wide).
HAIRLINE_WAVER = 3
# A hairline is at most this many pixels thick at working size: printed ruling and cell borders are 1-2 px, a pen's
# 1 is wider (leftover borders in real register scans: 0.9-2.1 px; simulated 1s, tuning seeds: 3.1 px and up).
HAIRLINE_MAX_WIDTH = 2.5
# A box less elongated than this holds no bar within HAIRLINE_TILT of upright or level (tan 4 degrees ~ 1/14).
HAIRLINE_BOX_ELONGATION = 6


def _hairline(labels: np.ndarray, members: list[int], box) -> bool:
    """Whether the marks ``members`` form one straight hairline along the image's axes."""
    x, y, bw, bh = box
    if max(bw, bh) < HAIRLINE_BOX_ELONGATION * min(bw, bh):
        return False
    points = cv2.findNonZero(np.isin(labels[y:y + bh, x:x + bw], members).astype(np.uint8))
    _, sides, angle = cv2.minAreaRect(points)
    long_side, short_side = max(sides) + 1, min(sides) + 1  # pixel centres span one pixel less than the ink
    thickness = len(points) / long_side
    tilt = min(angle % 90, 90 - angle % 90)
    straight = short_side <= HAIRLINE_WAVER * thickness
    return (straight and thickness <= HAIRLINE_MAX_WIDTH and long_side >= HAIRLINE_ELONGATION * thickness
            and tilt <= HAIRLINE_TILT)


# A straight bar that enters the frame at one side and leaves it at the next, this many times longer than thick, cuts
# off the frame's corner: a page's or a table's edge photographed askew (a written stroke ends inside the frame).
CORNER_CUT_ELONGATION = 8
# ... and straight along this percentage of its ink (within its own thickness of its axis).
CORNER_CUT_STRAIGHT_SHARE = 90


def _bar_axis(points: np.ndarray):
    """A mark's pixels (``cv2.findNonZero``'s points) as a bar: its least-squares axis (vx, vy, x0, y0), each pixel's
    position along and across it, the bar's length, and its thickness (pixels per unit of length)."""
    points = points.reshape(-1, 2).astype(np.float32)
    axis = cv2.fitLine(points, cv2.DIST_L2, 0, 0.01, 0.01).ravel()
    vx, vy, x0, y0 = axis
    along = (points - (x0, y0)) @ np.float32((vx, vy))
    across = (points - (x0, y0)) @ np.float32((-vy, vx))
    length = float(along.max() - along.min()) + 1
    return axis, along, across, length, len(points) / length


def _cuts_a_corner(labels: np.ndarray, members: list[int], box, area: int, h: int, w: int) -> bool:
    """Whether the marks ``members`` (``area`` pixels) are one straight bar from one side of the frame to an
    adjacent side."""
    x, y, bw, bh = box
    left, top, right, bottom = x == 0, y == 0, x + bw == w, y + bh == h
    # A bar's length is about its box's diagonal: more ink than that elongation allows is no thin bar (a digit).
    if not ((left or right) and (top or bottom)) or area * CORNER_CUT_ELONGATION > bw * bw + bh * bh:
        return False
    _, along, across, length, thickness = _bar_axis(cv2.findNonZero(
        np.isin(labels[y:y + bh, x:x + bw], members).astype(np.uint8)))
    # Straight where most of it is: the stubs of crossing ruling that cling to a margin line do not count.
    return (length >= CORNER_CUT_ELONGATION * thickness
            and float(np.percentile(np.abs(across), CORNER_CUT_STRAIGHT_SHARE)) <= thickness + 1)


def _edge_like(box, h: int, w: int) -> bool:
    x, y, bw, bh = box
    # Long across the frame, or entering it from a side: a line or an edge the frame cuts.
    tall_bar = (bh >= RULE_LINE_SPAN * h or ((y == 0 or y + bh == h) and bh >= RULE_LINE_SPAN / 2 * h)) \
        and bw <= RULE_LINE_THINNESS * bh
    long_bar = (bw >= RULE_LINE_SPAN * w or ((x == 0 or x + bw == w) and bw >= RULE_LINE_SPAN / 2 * w)) \
        and bh <= RULE_LINE_THINNESS * bw
    return tall_bar or long_bar


def _keep_only(ink: np.ndarray, labels: np.ndarray, n_labels: int, chosen, region) -> np.ndarray:
    wanted = np.zeros(n_labels, bool)
    wanted[chosen] = True
    out = np.zeros_like(ink)
    out[region] = np.where(wanted[labels[region]], ink[region], 0)  # a lookup table: faster than np.isin
    return out


def digit_options(ink: np.ndarray, source: str = "photo") -> list[tuple[str, np.ndarray]]:
    """Which marks may be the digit: (label, ink with only those marks), the rule's choice first.

    On a drawing ("drawing": the sketchpad) every stroke is the digit. On a photo the candidates
    are the groups of marks with the most ink (area x brightness: faint shadow edges lose; lines and edges come after
    the others, then marks the frame cuts, then marks filling a corner of it), and,
    when there are only a few marks, all of them together, and where thin strokes hold much of the
    ink (a grid), the biggest group left once they are taken away; the first group's biggest stroke alone is the
    rule's equal where it is most of that group (``CLEANED_MARK_SHARE``). A flat canvas ("canvas") tries every
    stroke first, then the photo's marks. The verifier judges which one is a digit.
    """
    every_stroke = ("every stroke", ink.copy())
    if source == "drawing":
        if not np.any(ink):
            raise NoDigit("the drawing is empty")
        return [every_stroke]
    if source == "canvas":
        try:
            return [every_stroke] + _mark_options(ink)  # a drawing on a canvas has no grid: its thin strokes are the digit
        except NoDigit:
            return [every_stroke]
    # A squared paper's grid photographed askew (or broken by the threshold) is no straight line to erase,
    # and clings to the digit: the marks are also looked for with every thin stroke taken away.
    thinned = without_thin_lines(ink)
    options, refusal = [], None
    try:
        options = _mark_options(ink, photo=True)
    except NoDigit as why:
        if thinned is None:
            raise
        refusal = why
    if thinned is not None:
        try:
            label, marks, *prior = _mark_options(thinned)[0]
            options.append((f"thin lines taken away: {label}", marks, *prior))
        except NoDigit:
            if refusal is not None:
                raise refusal from None  # the page's own reason, not the thinned page's
    return options


def _cut_by_the_frame(box, h: int, w: int) -> int:
    """How the frame cuts a group's box: 0 not at all, 1 at one side (or two opposite ones), 2 at a corner (it
    fills it, as a table, a page's corner or a shadow cut by the frame does). People centre what they photograph:
    a mark the frame cuts is most often a neighbour (the next digit on a register's row, a word at the page's edge),
    or a shadow or table reaching in."""
    x, y, bw, bh = box
    across = x == 0 or x + bw == w
    down = y == 0 or y + bh == h
    return 2 if across and down else int(across or down)


# What a candidate group is called, by how the frame cuts it (``_cut_by_the_frame``) and its rank among those
# like it by ink: candidates come in that order, so the names say what the order is.
MARK_NAMES = (("the mark with the most ink", "the 2nd mark by ink", "the 3rd mark by ink"),
              ("a mark the frame cuts", "a 2nd mark the frame cuts", "a 3rd mark the frame cuts"),
              ("a mark filling a corner of the frame", "a 2nd mark filling a corner", "a 3rd mark filling a corner"))


def _mark_name(named: list[tuple], cut: int) -> str:
    """The name of the next candidate, cut by the frame as ``cut`` says, after the candidates ``named``."""
    rank = sum(option[0] in MARK_NAMES[cut] for option in named)
    return MARK_NAMES[cut][rank]


# The rule's mark without its other strokes is that mark cleaned of what clung to it (a stroke grouped with it by
# mistake, a piece of a grid), not a fragment of it, where its biggest stroke holds at least this share of its pixels
# (at half, a 7's stem alone beat the whole 7 on tough tuning photos). A photo's rule is then unsure between the two.
CLEANED_MARK_SHARE = 0.75
BIGGEST_STROKE = "its biggest stroke alone"


def _mark_options(ink: np.ndarray, photo: bool = False) -> list[tuple]:
    """The candidate groups of marks, the rule's first (see ``digit_options``). On a ``photo``, the first group's
    biggest stroke alone is the rule's equal (prior 1) where it holds ``CLEANED_MARK_SHARE`` of the group's pixels: a
    grid's piece or a stray stroke joined to a digit makes it read worse (a 6 with a grid line across its top read 8,
    verifier 0.79), while the stroke alone is a clear digit. ("Thin lines taken away" stays an overturned choice: it
    also takes away a pencil digit's own thinner strokes, and a 6 read 1.)"""
    h, w = ink.shape
    if np.count_nonzero(ink) > MAX_INK_FRACTION * h * w:
        raise NoDigit("too much ink: this looks like noise or texture, not a digit on paper")
    labels, stats, keep = ink_components(ink)
    if not keep:
        raise NoDigit("no digit-shaped mark found (only specks, lines or edges)")
    if len(keep) > MAX_MARKS:
        raise NoDigit("too many separate marks: this looks like noise or text, not one digit")
    # Only the box around the kept marks matters (a sketch's ink fills a small part of its canvas).
    x0, y0 = stats[keep, 0].min(), stats[keep, 1].min()
    x1, y1 = (stats[keep, 0] + stats[keep, 2]).max(), (stats[keep, 1] + stats[keep, 3]).max()
    region = (slice(y0, y1), slice(x0, x1))
    mass = np.bincount(labels[region].ravel(), weights=ink[region].ravel(), minlength=len(stats))
    # A thin bar running from one side of the frame to the other, or across most of it, or across a corner, is a page
    # or cell edge far more often than a digit, and a straight upright or level hairline is a piece of one
    # that the line eraser left: such marks are tried after the others, however much ink they have
    # (a verifier cannot tell a bar from a 1; the rule only orders the candidates). Marks the frame cuts come after
    # those wholly in view, and those filling a corner of it last: a desk's corner read as a 1 outweighed a small 0
    # beside it, and on register scans the cut-off year above a 1 and the next column's letter beside a 7 were taken.
    groups = sorted(((members, _edge_like(box, h, w) or _hairline(labels, members, box)
                      or _cuts_a_corner(labels, members, box, int(stats[members, cv2.CC_STAT_AREA].sum()), h, w),
                      _cut_by_the_frame(box, h, w))
                     for members, box in group_strokes(stats, keep)), key=lambda g: (g[1], g[2], -mass[g[0]].sum()))
    options = []
    for members, line, cut in groups[:DIGIT_GROUP_CANDIDATES]:
        marks = _keep_only(ink, labels, len(stats), members, region)
        options.append(("a line or edge", marks, EDGE_LIKE_PRIOR) if line else (_mark_name(options, cut), marks))
    members, line, _ = groups[0]
    if len(members) > 1:  # the first group's biggest stroke alone: strokes grouped by mistake (an underline)
        biggest = max(members, key=lambda i: mass[i])
        area = stats[:, cv2.CC_STAT_AREA]
        cleaned = photo and not line and area[biggest] >= CLEANED_MARK_SHARE * area[members].sum()
        alone = _keep_only(ink, labels, len(stats), [biggest], region)
        options.append((BIGGEST_STROKE, alone, 1.0) if cleaned else (BIGGEST_STROKE, alone))
    # Strokes no grouping rule joins, together; lines and edges are no part of them (with one, they read as a 1).
    strokes = [members for members, line, _ in groups if not line]
    if 1 < len(strokes) and len(keep) <= ALL_MARKS_UP_TO:
        together = [i for members in strokes for i in members]
        options.append(("all marks together", _keep_only(ink, labels, len(stats), together, region)))
    return options


# Strokes thinner than this many pixels (at working size) may be a grid's or ruling's lines, not a pen's ...
THIN_LINE_WIDTH = 5
# ... tried without them when they hold at least this share of the ink (a grid, not a digit's frayed edge) ...
THIN_LINES_MIN_SHARE = 0.2
# ... and this share of the ink is left once they are gone (a digit drawn thicker than the grid).
THIN_LINES_LEAVE = 0.05


def without_thin_lines(ink: np.ndarray) -> np.ndarray | None:
    """The ink with every stroke thinner than THIN_LINE_WIDTH opened away, and what is left at the picture's
    edge (where a grid's lines crowd together, or the page ends); None where that is not worth a try.

    A squared paper's grid is thinner than the pen's strokes, unless the pen is thin too: so this is
    one more hypothesis for the verifier to judge, never the rule.
    """
    mask = (ink > 0).view(np.uint8)
    total = cv2.countNonZero(mask)
    if not total:
        return None
    # Only the box around the ink (with room for the kernel, where the frame allows) needs opening: this runs
    # once per hypothesis, and on a photo the ink is a small part of the frame.
    rows, cols = mask.shape
    margin = THIN_LINE_WIDTH // 2 + 1
    x, y, w, h = cv2.boundingRect(mask)
    x0, y0, x1, y1 = max(0, x - margin), max(0, y - margin), min(cols, x + w + margin), min(rows, y + h + margin)
    kept = cv2.morphologyEx(mask[y0:y1, x0:x1], cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (THIN_LINE_WIDTH,) * 2))
    _, labels, stats = components(kept)
    left_x, top_y = stats[:, 0] + x0, stats[:, 1] + y0
    at_edge = (left_x == 0) | (top_y == 0) | (left_x + stats[:, 2] == cols) | (top_y + stats[:, 3] == rows)
    at_edge[0] = True
    kept = ~at_edge[labels]
    left = int(np.count_nonzero(kept))
    if left > (1 - THIN_LINES_MIN_SHARE) * total or left < THIN_LINES_LEAVE * total:
        return None
    out = np.zeros_like(ink)
    out[y0:y1, x0:x1] = np.where(kept, ink[y0:y1, x0:x1], 0)
    return out


def isolate_digit(ink: np.ndarray) -> np.ndarray:
    """Keep the group of marks with the most ink (broken strokes grouped by ``same_digit``); erase the rest."""
    return digit_options(ink)[0][1]


# A mark must stand this many grey levels above the paper just around it to be ink: half the faintest ink the
# stress bench reads (a dim photo, ink 25 grey levels below its paper). Paper grain stretched as "faint ink"
# and a soft shadow's edge stand 3-11 levels above it (blank simulated pages, tuning seed 1050).
INK_ABOVE_PAPER = 12
# The paper is sampled in a ring this far (px at working size) beyond the mark's edge, at most.
PAPER_RING = 16


def ink_above_paper(grey: np.ndarray, marks: np.ndarray, origin: tuple[int, int] = (0, 0)) -> float | None:
    """How many grey levels the marks' ink (ink bright) stands above the paper just around them.

    ``marks`` covers ``grey`` from ``origin`` (x, y) on (the whole picture by default). The ink's level is the
    75th percentile of ``grey`` under the marks; the paper's is the median of a ring two stroke widths wide
    (at most ``PAPER_RING``) around them. None where no paper shows around them.
    """
    mask = (marks > 0).astype(np.uint8)
    x, y, bw, bh = cv2.boundingRect(mask)
    if bw == 0:
        return None
    box = mask[y:y + bh, x:x + bw]
    area = int(np.count_nonzero(box))
    edge = area - int(np.count_nonzero(cv2.erode(box, np.ones((3, 3), np.uint8))))
    reach = int(np.clip(round(4 * area / max(edge, 1)), 3, PAPER_RING))  # two stroke widths: 2 * (2 * area / edge)
    x, y = x + origin[0], y + origin[1]
    y0, y1 = max(0, y - reach - 1), min(grey.shape[0], y + bh + reach + 1)
    x0, x1 = max(0, x - reach - 1), min(grey.shape[1], x + bw + reach + 1)
    near = np.zeros((y1 - y0, x1 - x0), np.uint8)
    near[y - y0:y - y0 + bh, x - x0:x - x0 + bw] = box
    away = cv2.distanceTransform(1 - near, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)  # one pass, however far the ring reaches
    ring = (away > 1.5) & (away <= reach)
    if not ring.any():
        return None
    local = grey[y0:y1, x0:x1]
    return float(np.percentile(local[near > 0], 75) - np.median(local[ring]))


# A straight bar at least this many times longer than it is thick, and solid across (95% of its ink within
# LINE_PIECE_SPREAD of its thickness from its axis), may be a piece of a longer line: a 0 or a 7 is neither.
LINE_PIECE_ELONGATION = 8
LINE_PIECE_SPREAD = 0.75
# Beyond both its ends (where the picture reaches on), the bar's line stands out from its sides by at least this
# share of the bar's own contrast: a ruled or grid line, or a shadow's or table's edge, that the threshold cut
# into a piece (simulated blank pages: 0.66-1.07; the ends of written 1s, tuning photos and real sets: 0.15 at most).
LINE_RUNS_ON = 0.5


def _median_of_numbers(columns: np.ndarray) -> np.ndarray:
    """Each column's median, NaNs left out: np.nanmedian's values, from one sort (nanmedian goes column by column)."""
    ordered = np.sort(columns, axis=0)  # NaNs sort last
    count = np.count_nonzero(~np.isnan(ordered), axis=0)
    middle = np.stack([(count - 1) // 2, count // 2])
    return np.take_along_axis(ordered, middle, axis=0).mean(axis=0)


def runs_on_as_a_line(picture: np.ndarray, marks: np.ndarray) -> bool:
    """Whether ``marks`` are one straight bar whose line runs on beyond both its ends in ``picture`` (ink bright,
    the picture the marks were thresholded from): a piece of a longer line, not a 1 that someone wrote.

    A written stroke ends where the pen lifted; a ruled line or a shadow's edge goes on, fainter where the
    threshold dropped it. The picture is sampled in a strip along the bar's axis (OpenCV's remap), one
    bar-length beyond each end; the line's contrast there is the strip's centre over its sides.
    """
    points = cv2.findNonZero((marks > 0).astype(np.uint8))
    if points is None or len(points) < 2 * LINE_PIECE_ELONGATION:
        return False
    (vx, vy, x0, y0), along, across, length, thickness = _bar_axis(points)
    if length < LINE_PIECE_ELONGATION * thickness or np.percentile(np.abs(across), 95) > LINE_PIECE_SPREAD * thickness + 1:
        return False
    reach, gap = int(np.ceil(3 * thickness + 4)), int(np.ceil(2 * thickness + 2))  # the sides; the ends' blur skipped
    s = np.arange(along.min() - length - gap, along.max() + length + gap + 1, dtype=np.float32)
    u = np.arange(-reach, reach + 1, dtype=np.float32)
    ss, uu = np.meshgrid(s, u)
    strip = cv2.remap(picture.astype(np.float32), x0 + ss * vx - uu * vy, y0 + ss * vy + uu * vx, cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_CONSTANT, borderValue=np.nan)
    centre = strip[np.abs(u) <= thickness / 2 + 1]
    # A line near the frame's edge has one side in view: either side, wholly in the picture, gives its paper.
    sides = np.concatenate([np.where(np.isnan(side).any(axis=0), np.nan, side)
                            for side in (strip[u <= -thickness - 2], strip[u >= thickness + 2])])
    inside = ~np.isnan(centre).any(axis=0) & ~np.isnan(sides).all(axis=0)
    contrast = np.full(s.shape, np.nan, np.float32)
    contrast[inside] = centre[:, inside].max(axis=0) - _median_of_numbers(sides[:, inside])
    bar = (s >= along.min() + 0.1 * length) & (s <= along.max() - 0.1 * length) & inside
    own = float(np.median(contrast[bar])) if bar.any() else 0.0
    if own <= 0:
        return False
    ends = []
    for lo, hi in ((along.max() + gap, along.max() + gap + length), (along.min() - gap - length, along.min() - gap)):
        beyond = (s >= lo) & (s <= hi) & inside
        if beyond.sum() >= 0.25 * length:  # the picture reaches on there
            ends.append(float(np.median(contrast[beyond])) >= LINE_RUNS_ON * own)
    return bool(ends) and all(ends)
