"""The layout of written numbers: lines of marks, each line over-segmented into pieces, and separators.

A line is a chain of marks that overlap vertically and sit close side by side (a slanted
baseline is followed mark to mark). Each line is cut into pieces: its marks, and slices of
the wide ones cut where only a thin stroke crosses or the ink's height dips (touching digits),
upright and, for slanted writing, along the slant (each a piecing of its own). Which
pieces form which digit is not decided here: the number reader searches over groupings of
consecutive pieces and lets the models judge (``numbers``). Separators (. , - /) are judged
by shape, since the digit models know nothing of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy import ndimage

from . import segmentation as seg
from .mnist_stages import stroke_width

# Two marks are on one line when the shorter's centre lies within the taller's height, stretched by this fraction.
LINE_REACH = 0.15
# ... and the gap between them is at most this many times the taller's height.
LINE_GAP_RATIO = 1.6
# A mark this many times taller than the median mark is a border or a flourish: it links no marks into a line.
OUTLIER_HEIGHT_RATIO = 3.0
# A flag: a chain of marks under this fraction of the body's height, at most FLAG_GAP_RATIO of it above the body.
FLAG_HEIGHT_RATIO = 0.4
FLAG_GAP_RATIO = 0.25
# Chains of marks are one row when their bands overlap by this fraction of the shorter, and heights are this alike.
ROW_OVERLAP = 0.6
# A frame's ink covers less than this fraction of its box.
FRAME_MAX_FILL = 0.2
# A line's digit height: the median height of its marks at least this fraction of its tallest one.
TALL_MARK_RATIO = 0.5
# A thin upright mark over this many times the height of the line's rounder marks is a cell border or a
# rule crossing the line, not a digit (a written 1 is about as tall as the digits beside it): it does not set the
# line's digit height.
RULE_HEIGHT_RATIO = 2.0
# A mark this many times taller than wide is thin (a stroke, a rule); blobbier marks are digits' bodies or dots.
THIN_ASPECT = 6
# A mark this many times wider than tall is flat (an underline, a dash, a ruling's piece), never one digit.
FLAT_ASPECT = 2
# Rounder marks shorter than this (pixels at working size) are dots and specks: they cannot vouch for a digit height.
MIN_BODY_HEIGHT = 8
# Marks wider than this times the line's digit height may be touching digits: they get cut points.
CUT_WIDTH_RATIO = 0.55
# A cut goes where the column's ink is at most this many stroke widths (one stroke crossing, not a loop).
CUT_MAX_INK = 1.6
# ... or where the ink spans at most this fraction of the digit height (rounded digits touching side by side).
CUT_MAX_EXTENT = 0.75
# A straight run this many digit heights long is an underline (or a dash), never a digit's own bar ...
UNDERLINE_LENGTH = 1.3
# ... lying in the mark's lowest part, below this fraction of its height ...
UNDERLINE_BELOW = 0.7
# ... looked for at these slants (degrees), as underlines are drawn by hand.
UNDERLINE_SLANTS = (-9, -6, -3, 0, 3, 6, 9)
# Cuts are at least this fraction of the digit height from each other and from the mark's sides.
CUT_SPACING_RATIO = 0.14
# At most this many cuts per mark: enough for a run of 8 touching digits.
MAX_CUTS = 8
# Lines with more marks than this are text or texture, not a number; only the biggest are kept.
MAX_PIECES_PER_LINE = 30
# Separators are smaller than this fraction of the digit height (a digit is taller).
SEPARATOR_HEIGHT_RATIO = 0.45
# A dot is at least this many squared stroke widths of ink (less is a speck).
MIN_SEPARATOR_AREA = 0.5
# A slash leans at least this many degrees from vertical: 24% of MNIST test 1s lean 24 degrees or more, 1.2% 40.
SLASH_MIN_LEAN = 40.0
# A line's writing slant is looked for among these angles from vertical (degrees; forward slant positive).
SLANTS = tuple(range(-15, 46, 5))
# Past this slant, touching digits are also cut along the slant (a vertical cut clips both italic digits).
MIN_CUT_SLANT = 10

GAP, CUT, STROKES = "gap", "cut", "strokes"  # how a piece meets the previous one


@dataclass
class Piece:
    """A piece of a line's ink: a mark, or a slice of a wide mark."""

    x: int
    y: int
    w: int
    h: int
    mask: np.ndarray  # bool, the piece's ink inside its box
    join: str = GAP  # how it meets the previous piece: a gap, a cut through one mark, or strokes of one digit
    separator: str | None = None  # ".", ",", "-" or "/" when shaped like one

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass
class Line:
    pieces: list[Piece]
    height: float  # typical digit height in the line
    top: int
    bottom: int
    page_height: float = 0.0  # the typical mark height on the whole page
    alternatives: list[Line] = field(default_factory=list)  # the same marks pieced other ways (underlines erased, slanted cuts)


def union_box(pieces) -> tuple[int, int, int, int]:
    x0, y0 = min(p.x for p in pieces), min(p.y for p in pieces)
    x1, y1 = max(p.right for p in pieces), max(p.bottom for p in pieces)
    return x0, y0, x1 - x0, y1 - y0


def union_mask(pieces) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The box around the pieces and their ink painted into it."""
    x, y, w, h = union_box(pieces)
    mask = np.zeros((h, w), bool)
    for p in pieces:
        mask[p.y - y:p.bottom - y, p.x - x:p.right - x] |= p.mask
    return (x, y, w, h), mask


def _line_groups(boxes: np.ndarray) -> list[list[int]]:
    """Indices of marks per line: marks are linked when they overlap vertically and are near; lines are the chains."""
    x, y, w, h = (boxes[:, k].astype(float) for k in range(4))
    cy = y + h / 2
    taller = h[:, None] >= h[None, :]  # [i, j]: i is the taller
    tall_top = np.where(taller, y[:, None], y[None, :])
    tall_h = np.where(taller, h[:, None], h[None, :])
    short_cy = np.where(taller, cy[None, :], cy[:, None])
    within = (short_cy >= tall_top - LINE_REACH * tall_h) & (short_cy <= tall_top + (1 + LINE_REACH) * tall_h)
    gap = np.maximum(x[None, :] - (x + w)[:, None], x[:, None] - (x + w)[None, :])
    # A mark far taller than the typical one (a border, a long flourish) links to nothing: it would chain lines together.
    typical = _typical_height(h, w)
    ordinary = h <= OUTLIER_HEIGHT_RATIO * typical
    linked = within & (gap <= LINE_GAP_RATIO * tall_h) & ordinary[:, None] & ordinary[None, :]
    n = len(boxes)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(linked, 1))):
        parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    chains = _same_rows(list(groups.values()), y, h, ordinary)
    return _attach_flags(_absorb_enclosed(chains, x, y, w, h), x, y, w, h)


def _chain_box(chain: list[int], x, y, w, h):
    """(left, top, right, bottom) around a chain of marks."""
    return x[chain].min(), y[chain].min(), (x + w)[chain].max(), (y + h)[chain].max()


def _absorb_enclosed(chains: list[list[int]], x, y, w, h) -> list[list[int]]:
    """A chain lying within a longer chain's band and span joins it: a digit the threshold broke into small bits."""
    order = sorted(range(len(chains)), key=lambda k: -len(chains[k]))
    for a in order:
        if not chains[a]:
            continue
        ax0, ay0, ax1, ay1 = _chain_box(chains[a], x, y, w, h)
        for b in order:
            if b == a or not chains[b] or len(chains[b]) > len(chains[a]):
                continue
            bx0, by0, bx1, by1 = _chain_box(chains[b], x, y, w, h)
            if ax0 <= bx0 and bx1 <= ax1 and ay0 <= (by0 + by1) / 2 <= ay1:
                chains[a] = chains[a] + chains[b]
                chains[b] = []
    return [c for c in chains if c]


def _attach_flags(chains: list[list[int]], x, y, w, h) -> list[list[int]]:
    """A chain of short marks just above a taller chain and over it joins it: a 5's flag or a 7's serif drawn apart."""
    for a in sorted(range(len(chains)), key=lambda k: -len(chains[k])):
        if not chains[a]:
            continue
        ax0, ay0, ax1, ay1 = _chain_box(chains[a], x, y, w, h)
        for b, other in enumerate(chains):
            if b == a or not other:
                continue
            bx0, by0, bx1, by1 = _chain_box(other, x, y, w, h)
            tall = ay1 - ay0
            if (by1 - by0 < FLAG_HEIGHT_RATIO * tall and 0 <= ay0 - by1 < FLAG_GAP_RATIO * tall
                    and bx0 >= ax0 - FLAG_GAP_RATIO * tall and bx1 <= ax1 + tall):
                chains[a] = chains[a] + other
                chains[b] = []
    return [c for c in chains if c]


def _same_rows(chains: list[list[int]], y: np.ndarray, h: np.ndarray, ordinary: np.ndarray) -> list[list[int]]:
    """Chains on one row (far apart, e.g. widely spaced digits) joined: their bands overlap and their heights match."""
    bands = []
    for chain in chains:
        members = [i for i in chain if ordinary[i]] or chain
        bands.append((float(np.median(y[members])), float(np.median(y[members] + h[members]))))
    merged = True
    while merged:
        merged = False
        for a in range(len(chains)):
            for b in range(a + 1, len(chains)):
                (ta, ba), (tb, bb) = bands[a], bands[b]
                overlap = min(ba, bb) - max(ta, tb)
                shorter, taller = sorted((ba - ta, bb - tb))
                if overlap >= ROW_OVERLAP * shorter and shorter >= ROW_OVERLAP * taller:
                    chains[a] = chains[a] + chains.pop(b)
                    bands[a] = (min(ta, tb), max(ba, bb))
                    bands.pop(b)
                    merged = True
                    break
            if merged:
                break
    return chains


def _frames(labels: np.ndarray, ids: np.ndarray, boxes: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Marks that are frames (a printed box, a cell's ruling): thin ink around another sizeable mark.

    Around means on at least three sides within the inner mark's span: an underline that runs
    into the last digit also spans the digits before it, but has ink only below them.
    """
    x, y, w, h = (boxes[:, k] for k in range(4))
    inside = ((x[None, :] > x[:, None]) & (x[None, :] + w[None, :] < (x + w)[:, None])
              & (y[None, :] > y[:, None]) & (y[None, :] + h[None, :] < (y + h)[:, None])
              & (h[None, :] >= 0.3 * h[:, None]))
    frames = np.zeros(len(ids), bool)
    for a, b in zip(*np.nonzero(inside & (areas < FRAME_MAX_FILL * w * h)[:, None])):
        if frames[a]:
            continue
        fx, fy, fw, fh = (int(v) for v in boxes[a])
        own = labels[fy:fy + fh, fx:fx + fw] == ids[a]
        bx, by, bw, bh = (int(v) for v in boxes[b] - [fx, fy, 0, 0])  # the inner mark, in the frame's box
        sides = (own[by:by + bh, :bx].any(), own[by:by + bh, bx + bw:].any(),
                 own[:by, bx:bx + bw].any(), own[by + bh:, bx:bx + bw].any())
        frames[a] = sum(sides) >= 3
    return frames


def _typical_height(h: np.ndarray, w: np.ndarray) -> float:
    """The height of the marks holding most of the ink, by area-weighted median; line-like marks do not count."""
    blobby = (h <= THIN_ASPECT * w) & (w <= FLAT_ASPECT * h)
    if not blobby.any():
        return float(np.median(h))
    hs, weights = h[blobby], (h * w)[blobby]
    order = np.argsort(hs)
    cumulative = np.cumsum(weights[order])
    return float(hs[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _digit_height(h: np.ndarray, w: np.ndarray) -> float:
    """A line's digit height: the median height of its marks at least TALL_MARK_RATIO of its tallest one,
    leaving out thin marks far taller than its rounder marks (a cell border beside the number)."""
    bodies = (h <= THIN_ASPECT * w) & (h >= MIN_BODY_HEIGHT)
    if bodies.any():
        rules = (h > THIN_ASPECT * w) & (h > RULE_HEIGHT_RATIO * _typical_height(h[bodies], w[bodies]))
        h = h[~rules]
    return float(np.median(h[h >= TALL_MARK_RATIO * h.max()]))


def _cuts(mask: np.ndarray, height: float, stroke: float) -> list[int]:
    """Columns inside a wide mark where touching digits may part; the reader's search decides which to use.

    Two kinds: columns only a thin stroke crosses (a ligature, a 5's bar running into the next
    digit), and columns where the ink's vertical extent dips (two rounded digits touching side
    by side: the column through their meeting point holds much ink, but spans little height).
    """
    w = mask.shape[1]
    spacing = max(2, int(CUT_SPACING_RATIO * height))
    if w < 2 * spacing + 1:
        return []
    inner = slice(spacing, w - spacing)
    ink = np.convolve(mask.sum(axis=0).astype(float), np.ones(3) / 3, mode="same")
    has = mask.any(axis=0)
    top = np.where(has, mask.argmax(axis=0), mask.shape[0])
    bottom = np.where(has, mask.shape[0] - mask[::-1].argmax(axis=0), 0)
    extent = np.convolve(np.maximum(bottom - top, 0).astype(float), np.ones(3) / 3, mode="same")
    columns = np.arange(w)[inner]
    thin = columns[ink[inner] <= CUT_MAX_INK * stroke]
    lowest_near = ndimage.minimum_filter1d(extent, 2 * spacing + 1, mode="nearest")
    dips = columns[(extent[inner] <= CUT_MAX_EXTENT * height) & (extent[inner] <= lowest_near[inner] + 1e-9)]
    # Thin columns first (thinnest first), then the dips (shallowest extent first).
    ranked = list(thin[np.argsort(ink[thin], kind="stable")]) + list(dips[np.argsort(extent[dips], kind="stable")])
    cuts: list[int] = []
    for c in ranked:
        if len(cuts) >= MAX_CUTS:
            break
        if all(abs(c - k) >= spacing for k in cuts):
            cuts.append(int(c))
    return sorted(cuts)


def _sheared_columns(ys: np.ndarray, xs: np.ndarray, height: int, degrees: float) -> np.ndarray:
    """The columns of pixels (ys, xs) of a box ``height`` rows tall once the slant is sheared out (strokes
    leaning by ``degrees`` become vertical), counted from the leftmost column the box can land in."""
    shift = np.round(np.tan(np.radians(degrees)) * (height - 1 - ys)).astype(int)
    lowest = min(0, -int(round(np.tan(np.radians(degrees)) * (height - 1))))
    return xs - shift - lowest


def writing_slant(mask: np.ndarray) -> int:
    """The slant (degrees from vertical) that makes the ink's strokes most upright.

    The classic projection measure: sheared upright, the strokes stack into few columns,
    so the column counts' sum of squares peaks.
    """
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return 0

    def sharpness(degrees):
        return float((np.bincount(_sheared_columns(ys, xs, mask.shape[0], degrees)).astype(float) ** 2).sum())

    return max(SLANTS, key=lambda d: (sharpness(d), -abs(d)))


def _line_kernel(length: int, degrees: float) -> np.ndarray:
    rise = int(round(np.tan(np.radians(degrees)) * (length - 1)))
    kernel = np.zeros((abs(rise) + 1, length), np.uint8)
    cv2.line(kernel, (0, max(rise, 0)), (length - 1, max(-rise, 0)), 1, 1)
    return kernel


def _without_underline(mask: np.ndarray, height: float, stroke: float,
                       overhang_needed: bool = False) -> list[tuple[int, int, np.ndarray]] | None:
    """A mark with any underline touching it erased: (x, y, mask) of what is left, or None (no underline).

    An underline is a nearly straight run longer than any digit's own bar (``UNDERLINE_LENGTH``
    digit heights), found by openings with thin line-shaped kernels at a few slants. Unless it
    runs under another mark, it must also reach past the digits' ink on a side (as one drawn
    under a whole number does): a 2's long base running into the next digit does not.
    """
    length = int(UNDERLINE_LENGTH * height)
    if length < 8 or mask.shape[1] < length:
        return None
    ink = mask.astype(np.uint8)
    found = np.zeros_like(ink)
    for degrees in UNDERLINE_SLANTS:
        found |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, _line_kernel(length, degrees))
    found[:int(UNDERLINE_BELOW * mask.shape[0])] = 0  # a run across the digits' tops or middles is their own strokes
    if not found.any():
        return None
    rest = (ink > 0) & (cv2.dilate(found, np.ones((3, 3), np.uint8)) == 0)
    if overhang_needed and rest.any():
        run, other = np.flatnonzero(found.any(axis=0)), np.flatnonzero(rest.any(axis=0))
        if not (run[0] < other[0] - 2 * stroke or run[-1] > other[-1] + 2 * stroke):
            return None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8), connectivity=8)
    out = []
    for k in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[k])
        if area >= stroke ** 2:  # slivers of the underline's edge are not marks
            out.append((x, y, labels[y:y + h, x:x + w] == k))
    return out


def _slices(x: int, y: int, mask: np.ndarray, height: float, stroke: float, slant: int) -> list[Piece]:
    """A mark cut where touching digits may part, along its writing slant; the slices left to right.

    Slanted, the cuts are found on the mark sheared upright; each pixel goes to the slice its sheared column falls in.
    """
    if slant == 0:
        cuts = _cuts(mask, height, stroke)
        parts = ((a, mask[:, a:b]) for a, b in zip([0] + cuts, cuts + [mask.shape[1]]))  # (column offset, slice)
    else:
        rows = np.arange(mask.shape[0])[:, None]
        columns = _sheared_columns(rows, np.arange(mask.shape[1])[None, :], mask.shape[0], slant)
        upright = np.zeros((mask.shape[0], int(columns.max()) + 1), bool)
        ys, xs = np.nonzero(mask)
        upright[ys, columns[ys, xs]] = True
        cuts = _cuts(upright, height, stroke)
        parts = ((0, mask & (columns >= a) & (columns < b)) for a, b in zip([0] + cuts, cuts + [upright.shape[1]]))
    if not cuts:
        return [Piece(x, y, mask.shape[1], mask.shape[0], mask)]
    pieces = []
    for offset, part in parts:
        box = seg.bounding_box(part)
        if box is None:
            continue
        top, bottom, left, right = box
        pieces.append(Piece(x + offset + left, y + top, right - left, bottom - top, part[top:bottom, left:right],
                            CUT if pieces else GAP))
    return pieces


def separator_shape(p: Piece, line_top: float, height: float) -> str | None:
    """Which separator a piece is shaped like, or None: judged by size, shape and place in the line."""
    if p.h >= SEPARATOR_HEIGHT_RATIO * height:
        return "/" if _is_slash(p, height) else None
    if p.w < 0.04 * height and p.h < 0.04 * height:
        return None  # a speck
    centre = (p.y + p.h / 2 - line_top) / height
    if p.w >= 1.6 * p.h and p.w <= 0.9 * height and 0.25 <= centre <= 0.8:
        return "-"
    if p.h > 1.3 * p.w and centre > 0.7 and p.bottom > line_top + 0.95 * height:
        return ","
    if 0.4 <= p.w / max(p.h, 1) <= 2.5 and centre > 0.6 and p.w < 0.35 * height:
        return "."
    return None


def _is_slash(p: Piece, height: float) -> bool:
    """A thin straight stroke leaning far from vertical, about a digit tall."""
    if not 0.7 * height <= p.h <= 1.5 * height:
        return False
    m = cv2.moments(p.mask.astype(np.uint8), binaryImage=True)
    if m["m00"] < 10:
        return False
    cov = np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"]
    values, vectors = np.linalg.eigh(cov)
    if values[0] > 0.02 * values[1]:
        return False  # not straight: a 1 with a flag, a 7, a curve
    vx, vy = vectors[:, 1]
    lean = np.degrees(np.arctan2(abs(vx), abs(vy)))
    return SLASH_MIN_LEAN <= lean <= 70 and vx * vy < 0  # leaning right: "/"


def find_lines(ink: np.ndarray) -> list[Line]:
    """The lines of marks (top to bottom), each over-segmented into pieces left to right."""
    labels, stats, keep = seg.ink_components(ink)
    if not keep:
        return []
    keep = np.asarray(keep)
    keep = keep[~_frames(labels, keep, stats[keep, :4], stats[keep, 4])]  # frames are not part of any line
    if keep.size == 0:
        return []
    page_height = _typical_height(stats[keep, 3].astype(float), stats[keep, 2].astype(float))
    lines = []
    for members in _line_groups(stats[keep, :4]):
        ids = keep[members]
        height = _digit_height(stats[ids, 3].astype(float), stats[ids, 2].astype(float))
        if len(ids) > MAX_PIECES_PER_LINE:
            ids = ids[np.argsort(-stats[ids, 4])[:MAX_PIECES_PER_LINE]]
        ids = ids[np.argsort(stats[ids, 0], kind="stable")]
        group_of = {}
        for k, (members_, _) in enumerate(seg.group_strokes(stats, list(ids))):
            for i in members_:
                group_of[i] = k
        stroke = _line_stroke(labels, stats, ids)
        # The marks are pieced a few ways, each read and the best-read kept: with vertical cuts and,
        # for slanted writing, cuts along the slant; with any underline kept and erased.
        erasing = [False] + [True] * any(stats[i, 2] >= UNDERLINE_LENGTH * height for i in ids)
        wide = (stats[ids, 2] > CUT_WIDTH_RATIO * height) & (stats[ids, 3] >= TALL_MARK_RATIO * height)
        slant = _line_slant(labels, stats, ids) if wide.any() else 0
        slants = [0] + [slant] * (abs(slant) >= MIN_CUT_SLANT)
        variants = []
        for erase in erasing:
            for degrees in slants:
                pieces, erased, cut = _pieces(labels, stats, keep, ids, group_of, height, stroke, erase, degrees)
                if pieces and (erased or not erase) and (cut or not degrees):
                    variants.append(pieces)
        if not variants:
            continue
        line, *others = [Line(v, height, int(min(p.y for p in v)), int(max(p.bottom for p in v)), page_height)
                         for v in variants]
        line.alternatives = others
        lines.append(line)
    lines.sort(key=lambda ln: (ln.top + ln.bottom) / 2)
    return lines


def _under_another(stats: np.ndarray, ids, i) -> bool:
    """Whether mark i reaches under another mark of the line: an underline the last digit touches."""
    x, y, w, h = stats[i, :4]
    return any(j != i and stats[j, 0] >= x and stats[j, 0] + stats[j, 2] <= x + w and stats[j, 1] + stats[j, 3] <= y + h
               for j in ids)


def _pieces(labels, stats, keep, ids, group_of, height: float, stroke: float,
            erase_underlines: bool, slant: int) -> tuple[list[Piece], bool, bool]:
    """One line's marks over-segmented into pieces, left to right, separators marked; whether an underline was erased, any mark cut."""
    marked: list[tuple[int, int, Piece]] = []  # (where its part of a mark starts, the mark it comes from, piece)
    split = set()  # marks an erased underline parted
    for i in ids:
        x, y, w, h = (int(v) for v in stats[i, :4])
        mask = labels[y:y + h, x:x + w] == i
        parts = None
        if erase_underlines and w >= UNDERLINE_LENGTH * height:
            parts = _without_underline(mask, height, stroke, overhang_needed=not _under_another(stats, ids, i))
        if parts is None:
            parts = [(0, 0, mask)]
        else:
            split.add(i)
        for px, py, part in parts:
            ph, pw = part.shape
            wide = pw > CUT_WIDTH_RATIO * height and ph >= TALL_MARK_RATIO * height
            if wide and not _is_slash(Piece(0, 0, pw, ph, part), height):
                marked += [(x + px, i, piece) for piece in _slices(x + px, y + py, part, height, stroke, slant)]
            else:
                marked.append((x + px, i, Piece(x + px, y + py, pw, ph, part)))
    if not marked:
        return [], bool(split), False
    marked.sort(key=lambda m: m[0])  # stable: a mark's slices stay together, in order
    cut = any(piece.join == CUT for _, _, piece in marked)
    marked = [(i, piece) for _, i, piece in marked]
    pieces = [piece for _, piece in marked]
    for (before, _), (mark, piece) in zip(marked, marked[1:]):
        if before != mark:
            # Strokes the shared grouping rule joins (a 5's bar) meet as one digit's strokes, not across a gap.
            together = group_of[before] == group_of[mark] and not {before, mark} & split
            piece.join = STROKES if together else GAP
    pieces = _with_small_marks(pieces, labels, stats, keep, height, stroke)
    top = int(min(p.y for p in pieces))
    tall = [p for p in pieces if p.h >= TALL_MARK_RATIO * height]
    line_top = float(np.median([p.y for p in tall])) if tall else top
    for k, p in enumerate(pieces):
        whole = p.join == GAP and (k + 1 == len(pieces) or pieces[k + 1].join == GAP)
        p.separator = separator_shape(p, line_top, height) if whole else None  # a slice is part of a digit
    return pieces, bool(split), cut


def _with_small_marks(pieces, labels, stats, keep, height: float, stroke: float) -> list[Piece]:
    """The line's pieces plus the small marks inside its span that the speck filter dropped: dots and commas."""
    x0, x1 = min(p.x for p in pieces), max(p.right for p in pieces)
    y0 = float(np.median([p.y for p in pieces if p.h >= TALL_MARK_RATIO * height] or [pieces[0].y]))
    x, y, w, h, area = (stats[:, k] for k in range(5))
    small = np.ones(len(stats), bool)
    small[0] = False  # the background
    small[np.asarray(keep)] = False
    small &= (area >= MIN_SEPARATOR_AREA * stroke ** 2) & (np.maximum(w, h) < SEPARATOR_HEIGHT_RATIO * height)
    small &= (x0 <= x) & (x + w <= x1) & (y0 + 0.3 * height <= y + h / 2) & (y + h / 2 <= y0 + 1.3 * height)
    marks = [Piece(int(x[i]), int(y[i]), int(w[i]), int(h[i]), labels[y[i]:y[i] + h[i], x[i]:x[i] + w[i]] == i)
             for i in np.flatnonzero(small)]
    return sorted(pieces + marks, key=lambda p: p.x) if marks else pieces


def _line_slant(labels: np.ndarray, stats: np.ndarray, ids) -> int:
    """The line's writing slant, measured on all its marks together."""
    x0, y0, x1, y1 = _chain_box(ids, *(stats[:, k] for k in range(4)))
    return writing_slant(np.isin(labels[y0:y1, x0:x1], ids))


def _line_stroke(labels: np.ndarray, stats: np.ndarray, ids) -> float:
    """The line's pen width, measured on its biggest mark."""
    i = ids[int(np.argmax(stats[ids, 4]))]
    x, y, w, h = (int(v) for v in stats[i, :4])
    return max(1.0, stroke_width(labels[y:y + h, x:x + w] == i))
