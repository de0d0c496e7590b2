#!/usr/bin/env python3
"""Third, independent renderer of test images: handwritten MNIST test digits as phone photos and canvas sketches.

Written without looking at the project's own simulators, to find failure classes they miss.

    python bench/third_renderer.py --out DIR --seed S --n N [--kinds k1,k2,...] [--contact-sheet PATH]

For each kind it writes N images under DIR/<kind>/ and a manifest DIR/<kind>.csv (header ``file,label``, files
relative to DIR). Everything is deterministic given the seed. Kinds:

- photo_clean: one digit on plain paper, phone photo in decent light (mild tilt, gradient, noise, JPEG).
- photo_everyday: notebook / squared / dotted / recycled paper or sticky notes, coloured pens, pencil, hand
  shadows, bleed-through, printed text and a cut-off neighbouring character at the frame edge.
- photo_tough: hard shadows, glare, low light, motion blur, desk around the page, small digits, heavy JPEG,
  low resolution (a few of these at once, never so many that a person could not read the digit).
- sketch_white: browser-canvas drawing, round pen of constant width, white canvas.
- sketch_transparent: the same saved as RGBA with a transparent background and coloured (even white) ink.
- sketch_styles: fat brushes, airbrush, pen-lift gaps, 1-px pencil lines, coloured or dark canvases.

Only numpy and OpenCV (SciPy is not needed); digits come from the MNIST test split (digitlab.data.load_mnist).
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import cv2
import numpy as np

from digitlab.data import load_mnist

KINDS = ["photo_clean", "photo_everyday", "photo_tough", "sketch_white", "sketch_transparent", "sketch_styles"]

# --------------------------------------------------------------------------------------------------------------
# Glyphs: an MNIST digit as a smoothed grey image and as a stroke graph (its skeleton)
# --------------------------------------------------------------------------------------------------------------


def _thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a 0/1 image (vectorised)."""
    img = np.pad(binary.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p2, p3, p4 = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:]
            p5, p6, p7 = img[2:, 2:], img[2:, 1:-1], img[2:, :-2]
            p8, p9 = img[1:-1, :-2], img[:-2, :-2]
            c = img[1:-1, 1:-1]
            seq = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            b = sum(s.astype(np.int16) for s in seq[:8])
            a = sum(((seq[k] == 0) & (seq[k + 1] == 1)).astype(np.int16) for k in range(8))
            if step == 0:
                m = ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:
                m = ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            rem = (c == 1) & (b >= 2) & (b <= 6) & (a == 1) & m
            if rem.any():
                c[rem] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1]


class Glyph:
    """One MNIST digit. Coordinates are normalised: the ink's bounding box is y in [0, 1], x in [0, aspect]."""

    UP = 4  # upscaling of the 28x28 crop used for thresholding and thinning
    PAD = 2

    def __init__(self, img28: np.ndarray):
        g = img28.astype(np.float32) / 255.0
        ys, xs = np.nonzero(g > 0.15)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        self.h = float(y1 - y0)
        self.aspect = (x1 - x0) / self.h
        p = self.PAD
        crop = np.pad(g[y0:y1, x0:x1], p)
        up = cv2.resize(crop, None, fx=self.UP, fy=self.UP, interpolation=cv2.INTER_CUBIC)
        self.grey = cv2.GaussianBlur(np.clip(up, 0, 1), (0, 0), 1.6)
        # Faint, thin MNIST strokes break apart at a fixed threshold: take the highest threshold that keeps the
        # digit as connected as a low one does (the lowest that joins everything would also close small loops).
        self.threshold = self._connect_threshold()
        # stroke graph from the skeleton of the thresholded, smoothly upscaled digit
        binary = (self.grey > self.threshold).astype(np.uint8)
        n, lab, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        if n > 2:
            keep = stats[1:, cv2.CC_STAT_AREA] >= 0.04 * stats[1:, cv2.CC_STAT_AREA].max()
            binary = np.isin(lab, 1 + np.nonzero(keep)[0]).astype(np.uint8)
        # a loop drawn with a fat pen is nearly filled; it shows as a hole only in the darkest ink: open it
        self.opened = self._open_loops(binary)
        binary &= ~self.opened
        sk = _thin(binary)
        # A loop written so small or so fat that it filled in (a blob 6, 8 or 9) thins to a stub and the digit
        # would change. Where the redrawn skeleton misses much ink, hollow out round thick cores so the skeleton
        # runs around them, as the writer's pen did; keep that only if it explains the ink clearly better.
        dt = cv2.distanceTransform(binary, cv2.DIST_L2, 5)
        r = float(np.median(dt[sk > 0])) if sk.any() else 1.0
        ink = self.grey > self.threshold

        def missed(skel):
            cover = cv2.distanceTransform((skel == 0).astype(np.uint8), cv2.DIST_L2, 5) <= 1.4 * r + 1
            return (ink & ~cover).sum() / max(1, ink.sum())

        miss = missed(sk)
        if miss > 0.035:
            core = (dt > max(1.9 * r, r + 2.5)).astype(np.uint8)
            n, lab, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
            hollow = binary.copy()
            for k in range(1, n):
                if stats[k, cv2.CC_STAT_AREA] < 5:
                    continue
                yy, xx = np.nonzero(lab == k)
                ev = np.linalg.eigvalsh(np.cov(np.stack([xx, yy]).astype(float)) + 1e-3 * np.eye(2))
                if math.sqrt(ev[1] / ev[0]) < 2.5:  # round, not a bold straight stroke
                    hollow[lab == k] = 0
            sk2 = _thin(hollow)
            miss2 = missed(sk2)
            if miss2 < 0.7 * miss:
                sk, miss = sk2, miss2
        # if the redrawn skeleton still misses much of the digit's ink, draw this digit from its own shape
        self.fill_only = bool(miss > 0.06)
        self.nodes, self.edges = self._graph(sk, dt)
        # last check on the stroke graph itself (after spur pruning and smoothing): redrawn with the digit's own
        # median stroke width it must cover the ink; where it misses a hook or a filled bowl, keep MNIST's shape
        if not self.fill_only:
            P = np.c_[(self.nodes[:, 0] * self.h + self.PAD) * self.UP - 0.5,
                      (self.nodes[:, 1] * self.h + self.PAD) * self.UP - 0.5]
            red = np.zeros(binary.shape, np.uint8)
            for i, j in self.edges:
                cv2.line(red, tuple(int(v) for v in np.round(P[i])), tuple(int(v) for v in np.round(P[j])), 1, 1)
            if red.any():
                rm = float(np.median(dt[red > 0]))
                near = cv2.distanceTransform(1 - red, cv2.DIST_L2, 5) <= 1.25 * rm + 0.5
                self.fill_only = bool((ink & ~near).sum() > 0.12 * ink.sum())

    @staticmethod
    def _holes(binary):
        n, lab = cv2.connectedComponents((1 - np.pad(binary, 1)).astype(np.uint8), connectivity=4)
        return np.isin(lab, np.arange(2, n))[1:-1, 1:-1] if n > 2 else np.zeros(binary.shape, bool)

    def _open_loops(self, binary):
        have = self._holes(binary)
        low = self._components(self.threshold)
        out = np.zeros(binary.shape, np.uint8)
        for t in (0.6, 0.75, 0.88):
            if t <= self.threshold or self._components(t) > low:
                continue
            hm = self._holes((self.grey > t).astype(np.uint8))
            n, lab, stats, _ = cv2.connectedComponentsWithStats(hm.astype(np.uint8), connectivity=4)
            for k in range(1, n):  # only loops that are not there at the drawing threshold
                if stats[k, cv2.CC_STAT_AREA] >= 8 and not have[lab == k].any():
                    out |= (lab == k).astype(np.uint8)
            if out.any():
                break
        if out.any():
            out = cv2.dilate(out, np.ones((3, 3), np.uint8))
        return out

    def _components(self, t):
        n, _, stats, _ = cv2.connectedComponentsWithStats((self.grey > t).astype(np.uint8), connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        return int((areas >= 0.03 * max(1, areas.sum())).sum())

    def _connect_threshold(self):
        low = self._components(0.14)
        faint = self.grey > 0.14
        for t in (0.45, 0.38, 0.32, 0.26, 0.2):
            if self._components(t) > low:
                continue
            # ...and a faint stroke must not vanish altogether (a thin tail of a 5)
            far = cv2.distanceTransform((self.grey <= t).astype(np.uint8), cv2.DIST_L2, 3) > 4
            if (far & faint).sum() <= 0.02 * faint.sum():
                return t
        return 0.14

    def _to_norm(self, col, row):
        """grey-image pixel centres -> normalised coordinates"""
        x = (np.asarray(col) + 0.5) / self.UP - self.PAD
        y = (np.asarray(row) + 0.5) / self.UP - self.PAD
        return x / self.h, y / self.h

    def _graph(self, sk, dt):
        ys, xs = np.nonzero(sk)
        idx = -np.ones(sk.shape, np.int32)
        idx[ys, xs] = np.arange(len(ys))
        hh, ww = sk.shape

        def on(y, x):
            return 0 <= y < hh and 0 <= x < ww and sk[y, x]

        adj = [set() for _ in range(len(ys))]
        for i, (y, x) in enumerate(zip(ys, xs)):
            for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
                if not on(y + dy, x + dx):
                    continue
                if dy and dx and (on(y + dy, x) or on(y, x + dx)):
                    continue  # a 4-connected path already joins them
                j = idx[y + dy, x + dx]
                adj[i].add(j)
                adj[j].add(i)
        # prune spurs that are thinning artefacts: an end -> junction path hardly longer than the stroke is wide
        # there (a real short stroke, like the cusp of a 3 or the bar of a 4 beyond the stem, reaches further)
        removed = set()
        for s in range(len(ys)):
            if len(adj[s]) != 1:
                continue
            path, prev, cur = [s], -1, s
            while True:
                nxt = [k for k in adj[cur] if k != prev]
                if len(adj[cur]) > 2 or not nxt or (len(adj[cur]) == 1 and cur != s):
                    break
                prev, cur = cur, nxt[0]
                path.append(cur)
            if len(adj[cur]) > 2 and len(path) - 1 < 1.3 * dt[ys[cur], xs[cur]] + 1:
                removed.update(path[:-1])
        for r in removed:
            for k in adj[r]:
                adj[k].discard(r)
            adj[r] = set()
        alive = np.array([i for i in range(len(ys)) if adj[i] or i not in removed])
        remap = -np.ones(len(ys), np.int64)
        remap[alive] = np.arange(len(alive))
        nx, ny = self._to_norm(xs[alive], ys[alive])
        pos = np.stack([nx, ny], 1).astype(np.float64)
        edges = sorted({(min(remap[i], remap[j]), max(remap[i], remap[j])) for i in alive for j in adj[i]})
        edges = np.array(edges, np.int64).reshape(-1, 2)
        # smooth the staircase of the pixel skeleton: move degree-2 nodes towards their neighbours
        nb = [[] for _ in range(len(alive))]
        for a, b in edges:
            nb[a].append(b)
            nb[b].append(a)
        two = np.array([i for i in range(len(alive)) if len(nb[i]) == 2], np.int64)
        if len(two):
            na = np.array([nb[i][0] for i in two])
            nb2 = np.array([nb[i][1] for i in two])
            for _ in range(4):
                pos[two] = 0.5 * pos[two] + 0.25 * (pos[na] + pos[nb2])
        self.neighbours = nb
        return pos, edges


def _affine(glyph: Glyph, height_px, angle_deg, shear, xscale, margin):
    """2x2 matrix, offset and patch size that map normalised glyph coords into a patch with a margin."""
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    A = height_px * rot @ np.array([[xscale, shear], [0.0, 1.0]])
    corners = np.array([[0, 0], [glyph.aspect, 0], [glyph.aspect, 1], [0, 1]], float)
    t = corners @ A.T
    lo = t.min(0) - margin
    size = np.ceil(t.max(0) - lo + margin).astype(int) + 1
    off = -lo
    return A, off, (int(size[0]), int(size[1])), corners @ A.T + off


def _wobble(pts, rng, amp):
    """A smooth random displacement (hand tremor, mouse jitter) in normalised units."""
    out = pts.copy()
    for d in range(2):
        for _ in range(2):
            f = rng.uniform(1.0, 3.0)
            th = rng.uniform(0, 2 * np.pi)
            ph = rng.uniform(0, 2 * np.pi)
            out[:, d] += amp * 0.5 * np.sin(2 * np.pi * f * (pts[:, 0] * math.cos(th) + pts[:, 1] * math.sin(th)) + ph)
    return out


def _pressure_field(rng, shape, lo):
    """Smooth random multiplier in [lo, 1] over a patch (pen pressure, ink flow)."""
    h, w = shape
    small = rng.random((4, 4)).astype(np.float32)
    f = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    f = (f - f.min()) / max(1e-6, f.max() - f.min())
    return (lo + (1 - lo) * f).astype(np.float32)


def render_glyph(glyph: Glyph, rng, height_px, pen: dict):
    """Draw the glyph into a float32 density patch (0 = no ink, 1 = full ink).

    pen keys: mode ('skeleton' or 'fill'), width (px), angle, shear, xscale, wobble (normalised amplitude),
    width_var (relative, smooth along the stroke), pressure (lowest density), gaps (count), gap_len (fraction of
    height), blur (px), grain (0..1), threshold (fill mode).
    Returns (patch, corners of the glyph's box in patch pixel coordinates).
    """
    width = max(1.0, pen.get("width", 4.0))
    blur = pen.get("blur", 0.0)
    margin = width * (1 + pen.get("width_var", 0)) / 2 + 3 * blur + 3
    A, off, (pw, ph), corners = _affine(glyph, height_px, pen.get("angle", 0.0), pen.get("shear", 0.0),
                                        pen.get("xscale", 1.0), margin)
    if pen.get("mode", "skeleton") == "fill" or glyph.fill_only:
        # threshold the smoothly upscaled digit: the stroke keeps MNIST's own varying width
        s = 1.0 / (glyph.UP * glyph.h)  # grey pixel -> normalised units
        # grey index q -> norm p = ((q + .5)/UP - PAD)/h ; patch index = A p + off - .5
        M = np.zeros((2, 3))
        M[:, :2] = A * s
        M[:, 2] = A @ np.array([(0.5 / glyph.UP - glyph.PAD) / glyph.h] * 2) + off - 0.5
        v = cv2.warpAffine(glyph.grey, M, (pw, ph), flags=cv2.INTER_LINEAR, borderValue=0)
        t = min(pen.get("threshold", 0.45), glyph.threshold + 0.05)
        gy, gx = np.gradient(v)
        g = np.sqrt(gx * gx + gy * gy)
        band = np.abs(v - t) < 0.1
        slope = float(np.median(g[band])) if band.any() else 0.05
        dens = np.clip((v - t) / max(slope, 1e-3) + 0.5, 0, 1).astype(np.float32)
    else:
        pts = glyph.nodes
        if pen.get("wobble", 0) > 0:
            pts = _wobble(pts, rng, pen["wobble"])
        P = pts @ A.T + off - 0.5
        edges = glyph.edges
        if pen.get("gaps", 0) and len(edges):
            edges = _cut_gaps(glyph, edges, rng, pen["gaps"], pen.get("gap_len", 0.06))
        ss = 1 if width >= 6 else (2 if width >= 2.5 else 4)
        canvas = np.zeros((ph * ss, pw * ss), np.uint8)
        wv = pen.get("width_var", 0.0)
        if wv > 0:
            wf = _pressure_field(rng, (ph, pw), 0.0)
            ij = np.clip(P.round().astype(int), 0, [pw - 1, ph - 1])
            wnode = width * (1 - wv + 2 * wv * wf[ij[:, 1], ij[:, 0]])
        else:
            wnode = np.full(len(P), width)
        Q = np.round((P + 0.5) * ss * 8 - 4).astype(np.int64)  # fixed point, 3 fractional bits
        for i, j in edges:
            th = max(1, int(round(0.5 * (wnode[i] + wnode[j]) * ss)))
            cv2.line(canvas, (int(Q[i, 0]), int(Q[i, 1])), (int(Q[j, 0]), int(Q[j, 1])), 255, th, cv2.LINE_AA, 3)
        deg = np.bincount(edges.ravel(), minlength=len(P)) if len(edges) else np.zeros(len(P), int)
        for i in np.nonzero(deg == 0)[0]:  # isolated dots
            r = max(1, int(round(wnode[i] * ss / 2)))
            cv2.circle(canvas, (int(Q[i, 0]), int(Q[i, 1])), r * 8, 255, -1, cv2.LINE_AA, 3)
        if ss > 1:
            canvas = cv2.resize(canvas, (pw, ph), interpolation=cv2.INTER_AREA)
        dens = canvas.astype(np.float32) / 255.0
    if pen.get("pressure", 1.0) < 1.0:
        dens *= _pressure_field(rng, dens.shape, pen["pressure"])
    if pen.get("grain", 0) > 0:  # pencil graphite on paper tooth
        grain = rng.random(dens.shape, dtype=np.float32)
        grain = cv2.GaussianBlur(grain, (0, 0), 0.7)
        grain = np.clip((grain - 0.5) * 3 + 0.5, 0, 1)
        dens *= 1 - pen["grain"] * (1 - grain)
    if blur > 0:
        dens = cv2.GaussianBlur(dens, (0, 0), blur)
    return dens, corners - 0.5


def _cut_gaps(glyph, edges, rng, count, gap_len):
    """Remove short pieces of stroke (pen lifted for a moment) away from junctions and ends."""
    nb = glyph.neighbours
    deg = np.array([len(x) for x in nb])
    cand = np.nonzero(deg == 2)[0]
    if not len(cand):
        return edges
    depth = max(1, int(round(gap_len * glyph.h * glyph.UP / 2)))
    dead = set()
    for c in rng.choice(cand, size=min(count, len(cand)), replace=False):
        # only where the stroke is a simple path for a while around c
        seen, frontier, ok = {c}, [c], True
        for _ in range(depth + 2):
            nxt = []
            for u in frontier:
                for w in nb[u]:
                    if w not in seen:
                        if deg[w] != 2:
                            ok = False
                        seen.add(w)
                        nxt.append(w)
            frontier = nxt
        if not ok:
            continue
        seen, frontier = {c}, [c]
        for _ in range(depth):
            frontier = [w for u in frontier for w in nb[u] if w not in seen]
            seen.update(frontier)
        dead |= seen
    if not dead:
        return edges
    keep = [k for k, (a, b) in enumerate(edges) if not (a in dead and b in dead)]
    return edges[keep]


# --------------------------------------------------------------------------------------------------------------
# Sketches
# --------------------------------------------------------------------------------------------------------------

DARK_INKS = [(0, 0, 0), (30, 30, 30), (55, 55, 60), (15, 25, 90), (20, 20, 60)]
PALE_BGS = [(235, 235, 235), (220, 220, 222), (250, 243, 215), (222, 238, 250), (226, 245, 226), (250, 228, 236),
            (240, 232, 250), (255, 250, 235)]
DEEP_INKS = [(0, 0, 0), (20, 30, 110), (10, 80, 30), (120, 20, 20), (70, 20, 100), (45, 45, 45)]
DARK_BGS = [(0, 0, 0), (25, 25, 30), (30, 40, 60), (20, 50, 35), (50, 50, 50)]
LIGHT_INKS = [(255, 255, 255), (245, 245, 200), (255, 240, 120), (200, 240, 255), (230, 230, 230)]


def _canvas_size(rng):
    if rng.random() < 0.55:
        s = int(rng.choice([280, 300, 320, 400, 420, 480, 500, 512, 560, 600, 640, 700, 800]))
        return s, s
    w = int(rng.integers(300, 801))
    h = int(np.clip(round(w * rng.uniform(0.6, 0.85)), 200, 600))
    if rng.random() < 0.2:
        w, h = h, w
    return w, h


def _place_on_canvas(dens, W, H, rng):
    """Paste the density patch at a random position fully inside the canvas; returns the full-canvas density."""
    ph, pw = dens.shape
    if pw > W or ph > H:  # very rare: shrink to fit
        f = min(W / pw, H / ph) * 0.98
        dens = cv2.resize(dens, (max(1, int(pw * f)), max(1, int(ph * f))), interpolation=cv2.INTER_AREA)
        ph, pw = dens.shape
    x = int(rng.integers(0, W - pw + 1))
    y = int(rng.integers(0, H - ph + 1))
    out = np.zeros((H, W), np.float32)
    out[y:y + ph, x:x + pw] = dens
    return out


def _sketch_digit(glyph, rng, W, H, frac, width, **pen):
    dh = frac * H
    # keep the whole digit (and the pen around it) inside the canvas
    dh = min(dh, (H - width - 4) / 1.05, (W - width - 4) / (glyph.aspect + 0.15) / 1.05)
    pen = dict(pen)
    pen.setdefault("mode", "skeleton")
    pen["width"] = width
    pen.setdefault("angle", rng.uniform(-6, 6))
    pen.setdefault("shear", rng.uniform(-0.12, 0.12))
    pen.setdefault("xscale", rng.uniform(0.9, 1.12))
    pen.setdefault("wobble", rng.uniform(0.0, 0.012))
    dens, _ = render_glyph(glyph, rng, dh, pen)
    return _place_on_canvas(dens, W, H, rng), dh


def _compose(bg, ink, dens):
    bg = np.asarray(bg, np.float32)
    ink = np.asarray(ink, np.float32)
    d = dens[..., None]
    return np.clip(bg * (1 - d) + ink * d + 0.5, 0, 255).astype(np.uint8)


def render_sketch_white(glyph, rng):
    W, H = _canvas_size(rng)
    frac = rng.uniform(0.3, 0.9)
    width = min(max(W, H), 600) * rng.uniform(0.02, 0.08)
    width = float(np.clip(width, 0.045 * frac * H, 0.16 * frac * H))
    width = max(width, 2.0)
    mode = "fill" if rng.random() < 0.2 else "skeleton"
    pen = {"mode": mode, "threshold": rng.uniform(0.35, 0.55)}
    dens, _ = _sketch_digit(glyph, rng, W, H, frac, width, **pen)
    bg = (255, 255, 255) if rng.random() < 0.8 else tuple([int(rng.integers(242, 256))] * 3)
    ink = DARK_INKS[rng.integers(len(DARK_INKS))]
    img = _compose(bg, ink, dens)
    r = rng.random()
    if r < 0.12:
        return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), "png"
    if r < 0.3:
        return np.dstack([img, np.full(img.shape[:2], 255, np.uint8)]), "png"
    return img, "png"


def render_sketch_transparent(glyph, rng):
    W, H = _canvas_size(rng)
    frac = rng.uniform(0.3, 0.9)
    width = min(max(W, H), 600) * rng.uniform(0.02, 0.08)
    width = max(2.0, float(np.clip(width, 0.045 * frac * H, 0.16 * frac * H)))
    dens, _ = _sketch_digit(glyph, rng, W, H, frac, width, mode="skeleton")
    bgv = 0 if rng.random() < 0.5 else 255
    ink = [(0, 0, 0), (20, 30, 120), (255, 255, 255), (220, 30, 30)][rng.integers(4)]
    alpha = np.clip(dens * 255 + 0.5, 0, 255).astype(np.uint8)
    rgb = np.empty((H, W, 3), np.uint8)
    rgb[:] = bgv
    inked = alpha > 0
    rgb[inked] = ink  # canvas exports un-premultiplied colour: full ink colour even in the soft edge
    return np.dstack([rgb, alpha]), "png"


def render_sketch_styles(glyph, rng):
    W, H = _canvas_size(rng)
    style = ["fat", "airbrush", "gaps", "thin", "fat", "airbrush", "gaps", "thin", "marker_fill"][rng.integers(9)]
    frac = rng.uniform(0.3, 0.9)
    dh = frac * H
    pen = {}
    if style == "fat":
        width = dh * rng.uniform(0.11, 0.15)
    elif style == "airbrush":
        width = dh * rng.uniform(0.06, 0.11)
        pen["blur"] = width * rng.uniform(0.2, 0.45)
    elif style == "gaps":
        width = dh * rng.uniform(0.04, 0.09)
        pen["gaps"] = int(rng.integers(1, 4))
        pen["gap_len"] = rng.uniform(0.04, 0.08)
    elif style == "thin":
        width = 1.0
        frac = rng.uniform(0.35, 0.9)
    else:  # MNIST's own stroke shape, thick
        width = dh * 0.1
        pen["mode"] = "fill"
        pen["threshold"] = rng.uniform(0.25, 0.4)
    dens, dh = _sketch_digit(glyph, rng, W, H, frac, max(1.0, width), **pen)
    if style == "airbrush":
        peak = max(1e-3, float(np.percentile(dens[dens > 0.05], 95))) if (dens > 0.05).any() else 1.0
        dens = np.clip(dens / peak * rng.uniform(0.95, 1.3), 0, 1)
        if rng.random() < 0.6:  # spray speckle
            speck = (rng.random(dens.shape, dtype=np.float32) < 0.25 * dens).astype(np.float32)
            dens = np.clip(np.maximum(dens * 0.85, speck * 0.9), 0, 1)
    r = rng.random()
    if r < 0.3:
        bg, ink = (255, 255, 255), DEEP_INKS[rng.integers(len(DEEP_INKS))]
    elif r < 0.7:
        bg, ink = PALE_BGS[rng.integers(len(PALE_BGS))], DEEP_INKS[rng.integers(len(DEEP_INKS))]
    else:
        bg, ink = DARK_BGS[rng.integers(len(DARK_BGS))], LIGHT_INKS[rng.integers(len(LIGHT_INKS))]
    return _compose(bg, ink, dens), "png"


# --------------------------------------------------------------------------------------------------------------
# Photos
# --------------------------------------------------------------------------------------------------------------

def srgb_lin(c):
    return (np.asarray(c, np.float32) / (255.0 if np.max(c) > 1.0 else 1.0)) ** 2  # gamma 2 ~ sRGB, and cheap


INKS = {  # sRGB-ish reflectance of a dense stroke
    "black": [(0.12, 0.12, 0.14), (0.08, 0.08, 0.1), (0.18, 0.17, 0.2)],
    "blue": [(0.12, 0.18, 0.55), (0.1, 0.12, 0.42), (0.2, 0.3, 0.7)],
    "red": [(0.78, 0.12, 0.15), (0.7, 0.1, 0.22)],
    "green": [(0.1, 0.45, 0.25), (0.1, 0.38, 0.35)],
    "purple": [(0.38, 0.18, 0.55), (0.45, 0.2, 0.5)],
}
PAPERS_WHITE = [(0.95, 0.95, 0.94), (0.97, 0.96, 0.92), (0.93, 0.94, 0.96), (0.96, 0.94, 0.88), (0.92, 0.92, 0.9)]
STICKY = [(0.99, 0.93, 0.45), (1.0, 0.62, 0.76), (0.72, 0.95, 0.6), (1.0, 0.74, 0.42), (0.98, 0.9, 0.55)]


def _frame_size(rng, lo=640, hi=1600):
    L = int(rng.integers(lo, hi + 1))
    short = int(round(L * (0.75 if rng.random() < 0.75 else 0.5625)))
    return (L, short) if rng.random() < 0.6 else (short, L)


def _tilt_homography(W, H, ax, ay, az, f):
    """Homography from page-plane coordinates (= frame coordinates of the untilted page) to the frame."""
    cx, cy = W / 2.0, H / 2.0
    ax, ay, az = map(math.radians, (ax, ay, az))
    Rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    Ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    Rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    R = Rz @ Ry @ Rx
    src = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float32)
    dst = []
    for x, y in src:
        X = R @ np.array([x - cx, y - cy, 0.0])
        z = X[2] + f
        dst.append([f * X[0] / z + cx, f * X[1] / z + cy])
    return cv2.getPerspectiveTransform(src, np.array(dst, np.float32)).astype(np.float64)


def _apply_h(Hm, pts):
    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    q = np.c_[pts, np.ones(len(pts))] @ Hm.T
    return q[:, :2] / q[:, 2:3]


def _local_scale(Hm, p):
    """frame pixels per page pixel at page point p (geometric mean of the two axes)."""
    a = _apply_h(Hm, [p, (p[0] + 1, p[1]), (p[0], p[1] + 1)])
    return math.sqrt(np.linalg.norm(a[1] - a[0]) * np.linalg.norm(a[2] - a[0]))


def _noise_lowres(rng, H, W, cells=5):
    small = rng.random((cells, cells)).astype(np.float32)
    return cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC) - 0.5


class Scene:
    """A page (ink layers in page coordinates) seen through a homography, lit, and photographed."""

    def __init__(self, rng, W, H, Hm):
        self.rng, self.W, self.H, self.Hm = rng, W, H, Hm
        self.Hinv = np.linalg.inv(Hm)
        x = np.arange(W, dtype=np.float32)[None, :]
        y = np.arange(H, dtype=np.float32)[:, None]
        h = self.Hinv.astype(np.float32)
        den = h[2, 0] * x + h[2, 1] * y + h[2, 2]
        self.u = ((h[0, 0] * x + h[0, 1] * y + h[0, 2]) / den).astype(np.float32)
        self.v = ((h[1, 0] * x + h[1, 1] * y + h[1, 2]) / den).astype(np.float32)
        self.layers = []  # (patch, ox, oy, ink_lin)

    def frame_pts(self, page_pts):
        return _apply_h(self.Hm, page_pts)

    def page_pt(self, fx, fy):
        return _apply_h(self.Hinv, [(fx, fy)])[0]

    def add(self, patch, ox, oy, ink_rgb, strength=1.0):
        self.layers.append((patch * strength, ox, oy, srgb_lin(ink_rgb)))

    def ink_onto(self, albedo):
        for patch, ox, oy, ink in self.layers:
            ph, pw = patch.shape
            fp = self.frame_pts([(ox, oy), (ox + pw, oy), (ox + pw, oy + ph), (ox, oy + ph)])
            x0 = int(max(0, math.floor(fp[:, 0].min()) - 1))
            x1 = int(min(self.W, math.ceil(fp[:, 0].max()) + 2))
            y0 = int(max(0, math.floor(fp[:, 1].min()) - 1))
            y1 = int(min(self.H, math.ceil(fp[:, 1].max()) + 2))
            if x1 <= x0 or y1 <= y0:
                continue
            mx = self.u[y0:y1, x0:x1] - np.float32(ox + 0.5)
            my = self.v[y0:y1, x0:x1] - np.float32(oy + 0.5)
            d = cv2.remap(patch, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            roi = albedo[y0:y1, x0:x1]
            roi *= 1 - d[..., None] * (1 - ink)


def _pattern_lines(coord, spacing, offset, width):
    """Anti-aliased periodic lines (in page px) along one page coordinate."""
    t = (coord - np.float32(offset)) * np.float32(1.0 / spacing)
    d = np.abs(t - np.rint(t)) * np.float32(spacing)
    return np.clip(np.float32(width / 2 + 0.5) - d, 0, 1)


def _paper(scene, rng, kind, base_rgb, dh_page, digit_box_page, pattern):
    """Linear albedo of the page over the frame, with ruled / squared / dotted patterns and fibre."""
    W, H = scene.W, scene.H
    base = srgb_lin(base_rgb)
    mult = 1 + 0.04 * _noise_lowres(rng, H, W, 6)  # grey multiplier: mottling, fibres, grain
    marks = []  # (coverage, colour): printed lines and dots
    u, v = scene.u, scene.v
    lw = max(1.0, rng.uniform(0.0012, 0.0025) * max(W, H))
    if pattern == "ruled":
        sp = dh_page * rng.uniform(0.65, 1.3)
        off = digit_box_page[3] if rng.random() < 0.6 else rng.uniform(0, sp)  # write on the line
        col = rng.choice([(0.55, 0.7, 0.92), (0.6, 0.75, 0.9), (0.5, 0.62, 0.85)])
        marks.append((_pattern_lines(v, sp, off, lw), col))
        if rng.random() < 0.75:  # red margin: usually left of the digit
            mx = digit_box_page[0] - rng.uniform(0.3, 3.0) * dh_page
            m = np.clip(np.float32(lw * 1.2 / 2 + 0.5) - np.abs(u - np.float32(mx)), 0, 1)
            marks.append((m, (0.92, 0.45, 0.5)))
    elif pattern in ("squared", "graph"):
        sp = dh_page * rng.uniform(0.22, 0.55)
        col = rng.choice([(0.7, 0.78, 0.9), (0.75, 0.75, 0.75), (0.7, 0.85, 0.75), (0.85, 0.7, 0.6)])
        ou, ov = rng.uniform(0, sp, 2)
        m = np.maximum(_pattern_lines(u, sp, ou, lw * 0.8), _pattern_lines(v, sp, ov, lw * 0.8))
        if pattern == "graph":
            m = np.maximum(m, np.maximum(_pattern_lines(u, sp * 5, ou, lw * 1.6), _pattern_lines(v, sp * 5, ov, lw * 1.6)))
        marks.append((m, col))
    elif pattern == "dotted":
        sp = dh_page * rng.uniform(0.22, 0.5)
        ou, ov = rng.uniform(0, sp, 2)
        tu = (u - np.float32(ou)) / np.float32(sp)
        tv = (v - np.float32(ov)) / np.float32(sp)
        du = (tu - np.rint(tu)) * np.float32(sp)
        dv = (tv - np.rint(tv)) * np.float32(sp)
        m = np.clip(np.float32(lw * 1.1 + 0.5) - np.sqrt(du * du + dv * dv), 0, 1) * np.float32(0.8)
        marks.append((m, (0.6, 0.6, 0.62)))
    elif pattern == "recycled":
        fib = np.zeros((H, W), np.uint8)
        n = int(W * H / 2500 * rng.uniform(0.5, 1.2))
        p = rng.random((n, 2)) * [W, H]
        a = rng.random(n) * np.pi
        L = rng.uniform(3, 14, n) * max(1, max(W, H) / 1000)
        val = rng.integers(30, 120, n)
        for (x, y), aa, ll, vv in zip(p, a, L, val):
            cv2.line(fib, (int(x), int(y)), (int(x + ll * math.cos(aa)), int(y + ll * math.sin(aa))), int(vv), 1)
        fib = cv2.GaussianBlur(fib, (0, 0), 0.6).astype(np.float32) / 255.0
        sign = 1 if rng.random() < 0.7 else -1
        mult *= 1 - 0.35 * sign * fib
        ns = int(W * H * 0.0004)
        sx, sy = rng.integers(0, W, ns), rng.integers(0, H, ns)
        mult[sy, sx] *= 0.75  # specks
    grain = rng.standard_normal((H // 2 + 1, W // 2 + 1), dtype=np.float32)
    grain = cv2.resize(grain, (W, H), interpolation=cv2.INTER_LINEAR)
    mult *= 1 + 0.012 * grain
    planes = []
    for c in range(3):
        pl = mult * np.float32(base[c])
        for m, col in marks:
            k = np.float32(1 - srgb_lin(col)[c])
            if k > 0:
                pl *= 1 - m * k
        planes.append(pl)
    return cv2.merge(planes)


def _desk(rng, H, W):
    kind = rng.choice(["wood", "wood", "dark", "grey"])
    h4, w4 = H // 4 + 1, W // 4 + 1
    if kind == "wood":
        base = np.array(rng.choice([(0.55, 0.37, 0.22), (0.68, 0.5, 0.32), (0.4, 0.25, 0.15), (0.78, 0.62, 0.44)]))
        streak = rng.random((h4, 5)).astype(np.float32)
        streak = cv2.resize(streak, (w4, h4), interpolation=cv2.INTER_CUBIC)
        fine = rng.random((h4, max(2, w4 // 40))).astype(np.float32)
        fine = cv2.resize(fine, (w4, h4), interpolation=cv2.INTER_LINEAR)
        y = np.arange(h4, dtype=np.float32)[:, None]
        rings = np.sin(y * rng.uniform(0.15, 0.4) + 6 * streak)
        t = 1 + 0.12 * (streak - 0.5) + 0.08 * rings + 0.1 * (fine - 0.5)
        if rng.random() < 0.5:
            t = cv2.resize(t.T.copy(), (w4, h4))
        img = t[..., None] * base
    elif kind == "dark":
        base = np.array(rng.choice([(0.1, 0.1, 0.11), (0.16, 0.16, 0.18), (0.12, 0.14, 0.22), (0.2, 0.17, 0.15)]))
        img = (1 + 0.25 * (rng.random((h4, w4)).astype(np.float32) - 0.5))[..., None] * base
    else:
        base = np.array(rng.choice([(0.55, 0.56, 0.58), (0.72, 0.72, 0.7), (0.45, 0.47, 0.5)]))
        img = (1 + 0.1 * (rng.random((h4, w4)).astype(np.float32) - 0.5))[..., None] * base
    img = cv2.resize(img.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
    return srgb_lin(np.clip(img, 0, 1)), kind


def _pick_pen(rng, kind, dh):
    """Ink colour and pen parameters (widths in page px for a digit of height dh)."""
    if kind == "photo_clean":
        tool = rng.choice(["ballpoint", "gel", "marker", "ballpoint", "gel", "pencil"], p=[.25, .25, .2, .1, .1, .1])
        colour = rng.choice(["black", "blue", "black", "blue", "red"], p=[.35, .35, .1, .1, .1])
    else:
        tool = rng.choice(["ballpoint", "gel", "marker", "pencil"], p=[.32, .24, .22, .22])
        colour = rng.choice(["black", "blue", "red", "green", "purple"], p=[.3, .3, .15, .12, .13])
    ink = INKS[colour][rng.integers(len(INKS[colour]))]
    pen = {"angle": rng.uniform(-4, 4), "shear": rng.uniform(-0.15, 0.15), "xscale": rng.uniform(0.88, 1.12),
           "wobble": rng.uniform(0, 0.01)}
    strength = 1.0
    if tool == "ballpoint":
        pen.update(mode="skeleton", width=max(1.3, dh * rng.uniform(0.035, 0.07)), width_var=0.2,
                   pressure=rng.uniform(0.5, 0.85))
        strength = rng.uniform(0.8, 0.95)
    elif tool == "gel":
        pen.update(mode="skeleton", width=max(1.6, dh * rng.uniform(0.05, 0.09)), width_var=0.08, pressure=0.9)
    elif tool == "marker":
        if rng.random() < 0.5:
            pen.update(mode="fill", threshold=rng.uniform(0.3, 0.5), blur=0.6)
        else:
            pen.update(mode="skeleton", width=max(2.0, dh * rng.uniform(0.1, 0.16)), blur=0.6, pressure=0.85)
    else:  # pencil
        pen.update(mode="skeleton", width=max(1.5, dh * rng.uniform(0.04, 0.08)), width_var=0.2,
                   pressure=rng.uniform(0.6, 0.9), grain=rng.uniform(0.3, 0.6))
        g = rng.uniform(0.3, 0.45)
        ink = (g, g, g * 1.05)
        colour = "pencil"
        strength = rng.uniform(0.85, 1.0)
    return tool, colour, ink, pen, strength


def _boxes_apart(a, b, gap):
    return a[2] + gap < b[0] or b[2] + gap < a[0] or a[3] + gap < b[1] or b[3] + gap < a[1]


def _bbox(pts):
    pts = np.asarray(pts)
    return np.array([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])


def render_photo(kind, glyph, rng, extra_glyphs):
    tough = kind == "photo_tough"
    every = kind == "photo_everyday"
    conds = set()
    if tough:
        pool = ["hard_shadow", "glare", "low_light", "motion", "desk", "small", "jpeg_heavy", "lowres"]
        k = int(rng.choice([1, 2, 2, 3]))
        conds = set(rng.choice(pool, size=k, replace=False).tolist())
        if "small" in conds:  # a small digit is hard enough without a dark or low-resolution frame
            conds -= {"lowres", "low_light"}
    W, H = _frame_size(rng)
    out_size = None
    if "lowres" in conds:
        out_size = [(320, 240), (352, 288), (400, 300), (480, 360)][rng.integers(4)]
        if rng.random() < 0.35:
            out_size = out_size[::-1]
        W, H = (800, 600) if out_size[0] > out_size[1] else (600, 800)
    # camera geometry
    tmax = 10 if kind == "photo_clean" else 20
    t = rng.uniform(0, tmax)
    phi = rng.uniform(0, 2 * np.pi)
    roll = rng.uniform(-6, 6) if kind == "photo_clean" else rng.uniform(-8, 8)
    f = rng.uniform(0.9, 1.5) * max(W, H)
    Hm = _tilt_homography(W, H, t * math.cos(phi), t * math.sin(phi), roll, f)
    sc = Scene(rng, W, H, Hm)

    # digit size (fraction of the frame height) and pen
    if kind == "photo_clean":
        frac = rng.uniform(0.15, 0.6)
    elif every:
        frac = rng.uniform(0.08, 0.6)
    elif "small" in conds:
        frac = rng.uniform(0.05, 0.12)
    else:
        frac = rng.uniform(0.15, 0.5)
    if out_size is not None:
        frac = max(frac, 0.2)
    frac = max(frac, 22.0 / H)  # at least ~22 px tall in any frame
    tool, colour, ink, pen, strength = _pick_pen(rng, kind, frac * H)

    # page region (only when the desk shows, or a small sticky note is photographed whole)
    paper_kind = "plain"
    base = PAPERS_WHITE[rng.integers(len(PAPERS_WHITE))]
    if every:
        paper_kind = rng.choice(["plain", "ruled", "squared", "graph", "dotted", "sticky", "recycled"],
                                p=[.1, .25, .15, .07, .1, .18, .15])
        if paper_kind == "sticky":
            base = STICKY[rng.integers(len(STICKY))]
        elif paper_kind == "recycled":
            g = rng.uniform(0.72, 0.86)
            base = (g, g * rng.uniform(0.97, 1.0), g * rng.uniform(0.9, 0.97))
    elif tough:
        paper_kind = rng.choice(["plain", "ruled", "squared"], p=[.5, .3, .2])
    edges = []  # half-planes (a, b, c): a*u + b*v + c >= 0 inside the page
    small_note = paper_kind == "sticky" and frac < 0.3 and rng.random() < 0.7
    if "desk" in conds or small_note:
        edges = "pending"

    # place the digit: choose its frame position, map it onto the page
    margin = 0.04 * H
    for attempt in range(30):
        dh_f = frac * H * (0.97 ** attempt)
        dw_f = dh_f * (glyph.aspect + 0.2)
        if dw_f > W - 2 * margin:
            continue
        cx = rng.uniform(margin + dw_f / 2, W - margin - dw_f / 2)
        cy = rng.uniform(margin + dh_f / 2, H - margin - dh_f / 2)
        pc = sc.page_pt(cx, cy)
        s = _local_scale(Hm, pc)
        dh_p = dh_f / s
        pen_p = dict(pen)
        if "width" in pen_p:
            pen_p["width"] = max(pen["width"] / s, 1.2)
        dens, corners = render_glyph(glyph, rng, dh_p, pen_p)
        ph, pw = dens.shape
        cen = corners.mean(0)
        ox, oy = pc[0] - cen[0], pc[1] - cen[1]
        gcorners = corners + [ox, oy]
        fb = _bbox(sc.frame_pts(gcorners))
        if fb[0] >= margin * 0.5 and fb[1] >= margin * 0.5 and fb[2] <= W - margin * 0.5 and fb[3] <= H - margin * 0.5:
            break
    digit_box_page = _bbox(gcorners)
    digit_box_frame = fb
    dh_page = digit_box_page[3] - digit_box_page[1]

    if edges == "pending":
        edges = []
        if small_note:  # the whole sticky note in view, on a desk
            side = dh_page * rng.uniform(2.0, 3.2)
            ccx, ccy = digit_box_page[[0, 2]].mean(), digit_box_page[[1, 3]].mean()
            ccx += rng.uniform(-0.2, 0.2) * (side - (digit_box_page[2] - digit_box_page[0]))
            ccy += rng.uniform(-0.2, 0.2) * (side - dh_page)
            a0 = math.radians(rng.uniform(-8, 8))
            for k in range(4):
                a = a0 + k * np.pi / 2
                nx, ny = -math.cos(a), -math.sin(a)  # inward normal
                edges.append((nx, ny, -(nx * ccx + ny * ccy) + side / 2))
        else:  # page edge(s) visible on one or two sides, never touching the digit
            sides = rng.choice(["l", "r", "t", "b"], size=int(rng.integers(1, 3)), replace=False)
            for sd in sides:
                a = math.radians(rng.uniform(-14, 14))
                if sd in "lr":
                    room = digit_box_page[0] if sd == "l" else W - digit_box_page[2]
                else:
                    room = digit_box_page[1] if sd == "t" else H - digit_box_page[3]
                if room < 0.08 * min(W, H):
                    continue
                dist = rng.uniform(0.2, 0.75) * room  # the edge is this far from the frame side
                if sd == "l":
                    nx, ny, px, py = math.cos(a), math.sin(a), dist, digit_box_page[[1, 3]].mean()
                elif sd == "r":
                    nx, ny, px, py = -math.cos(a), math.sin(a), W - dist, digit_box_page[[1, 3]].mean()
                elif sd == "t":
                    nx, ny, px, py = math.sin(a), math.cos(a), digit_box_page[[0, 2]].mean(), dist
                else:
                    nx, ny, px, py = math.sin(a), -math.cos(a), digit_box_page[[0, 2]].mean(), H - dist
                c = -(nx * px + ny * py)
                # keep a margin between the edge and the digit
                dmin = min(nx * x + ny * y + c for x, y in gcorners)
                if dmin < 0.05 * dh_page + 4:
                    c += 0.05 * dh_page + 4 - dmin
                edges.append((nx, ny, c))

    # paper, then the other marks on it
    pattern = paper_kind if paper_kind in ("ruled", "squared", "graph", "dotted", "recycled") else "plain"
    albedo = _paper(sc, rng, kind, base, dh_page, digit_box_page, pattern)

    if every and rng.random() < 0.35:  # bleed-through from the back of the page: mirrored, blurred, faint
        for _ in range(int(rng.integers(1, 3))):
            g2 = extra_glyphs[rng.integers(len(extra_glyphs))]
            hh = dh_page * rng.uniform(0.6, 1.2)
            d2, c2 = render_glyph(g2, rng, hh, {"mode": "skeleton", "width": max(1.5, hh * 0.07),
                                                  "blur": hh * rng.uniform(0.03, 0.06)})
            d2 = d2[:, ::-1].copy()
            p = sc.page_pt(rng.uniform(0, W), rng.uniform(0, H))
            sc.add(d2, p[0] - d2.shape[1] / 2, p[1] - d2.shape[0] / 2,
                   tuple(0.5 + 0.5 * np.array(ink)), rng.uniform(0.08, 0.2))
    if every and rng.random() < 0.3:  # faint printed text line above or below, never touching the digit
        th = dh_page * rng.uniform(0.15, 0.3)
        words = " ".join("".join(chr(97 + int(c)) for c in rng.integers(0, 26, int(rng.integers(2, 9))))
                         for _ in range(int(rng.integers(3, 9))))
        font = int(rng.choice([cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
                               cv2.FONT_HERSHEY_TRIPLEX]))
        fs = th / 22.0
        thick = max(1, int(round(th / 30)))
        (tw, tht), base_l = cv2.getTextSize(words, font, fs, thick)
        tp = np.zeros((tht + base_l + 8, tw + 8), np.uint8)
        cv2.putText(tp, words, (4, tht + 4), font, fs, 255, thick, cv2.LINE_AA)
        above = rng.random() < 0.5
        gap = dh_page * rng.uniform(0.25, 0.6)
        ty = digit_box_page[1] - gap - tp.shape[0] if above else digit_box_page[3] + gap
        tx = digit_box_page[0] + rng.uniform(-1.5, 0.5) * dh_page
        sc.add(tp.astype(np.float32) / 255.0, tx, ty, (0.15, 0.15, 0.15), rng.uniform(0.25, 0.5))
    if every and rng.random() < 0.35:  # a neighbouring handwritten character, cut off by the frame edge
        g2 = extra_glyphs[rng.integers(len(extra_glyphs))]
        for attempt in range(12):
            hh_f = digit_box_frame[3] - digit_box_frame[1]
            hh_f *= rng.uniform(0.6, 0.95)
            ww_f = hh_f * (g2.aspect + 0.1)
            side = rng.choice(["l", "r", "t", "b"])
            out = rng.uniform(0.45, 0.7)
            if side == "l":
                fx, fy = ww_f * (0.5 - out), rng.uniform(hh_f / 2, H - hh_f / 2)
            elif side == "r":
                fx, fy = W - ww_f * (0.5 - out), rng.uniform(hh_f / 2, H - hh_f / 2)
            elif side == "t":
                fx, fy = rng.uniform(ww_f / 2, W - ww_f / 2), hh_f * (0.5 - out)
            else:
                fx, fy = rng.uniform(ww_f / 2, W - ww_f / 2), H - hh_f * (0.5 - out)
            nb = np.array([fx - ww_f / 2, fy - hh_f / 2, fx + ww_f / 2, fy + hh_f / 2])
            if not _boxes_apart(nb, digit_box_frame, 0.2 * hh_f):
                continue
            p = sc.page_pt(fx, fy)
            s = _local_scale(Hm, p)
            pen2 = dict(pen)
            pen2["angle"] = rng.uniform(-6, 6)
            if "width" in pen2:
                pen2["width"] = max(1.2, pen["width"] / s * rng.uniform(0.9, 1.1))
            d2, c2 = render_glyph(g2, rng, hh_f / s, pen2)
            cc = c2.mean(0)
            sc.add(d2, p[0] - cc[0], p[1] - cc[1], ink, strength)
            break

    sc.add(dens, ox, oy, ink, strength)  # the digit itself
    sc.ink_onto(albedo)

    # desk around the page
    if edges:
        sd = np.min(np.stack([e[0] * sc.u + e[1] * sc.v + e[2] for e in edges]), axis=0)
        m = np.clip(sd + 0.5, 0, 1)[..., None]
        desk, _ = _desk(rng, H, W)
        shadow = 1 - rng.uniform(0.2, 0.5) * np.exp(-np.maximum(-sd, 0) / (rng.uniform(0.004, 0.015) * max(W, H)))
        albedo = albedo * m + desk * shadow[..., None] * (1 - m)

    # illumination, computed coarse then upsampled (it is smooth), except hard shadow edges
    h8, w8 = H // 8 + 1, W // 8 + 1
    xn = np.linspace(-1, 1, w8, dtype=np.float32)[None, :]
    yn = np.linspace(-1, 1, h8, dtype=np.float32)[:, None]
    grad_amp = {"photo_clean": 0.2, "photo_everyday": 0.35, "photo_tough": 0.5}[kind] * rng.random()
    a = rng.uniform(0, 2 * np.pi)
    L = 1 + grad_amp * (math.cos(a) * xn + math.sin(a) * yn) / 2
    L = L * (1 - rng.uniform(0, 0.3) * (xn * xn + yn * yn) / 2)
    if (every and rng.random() < 0.45) or (tough and rng.random() < 0.25):  # soft shadow of a hand / phone
        blob = np.zeros((h8, w8), np.float32)
        ccx, ccy = rng.choice([0, w8])* 1.0 + rng.uniform(-0.2, 0.2) * w8, rng.uniform(0, 1) * h8
        if rng.random() < 0.5:
            ccx, ccy = rng.uniform(0, 1) * w8, rng.choice([0, h8]) * 1.0 + rng.uniform(-0.2, 0.2) * h8
        axes = (int(rng.uniform(0.25, 0.6) * w8), int(rng.uniform(0.25, 0.6) * h8))
        cv2.ellipse(blob, (int(ccx), int(ccy)), axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
        blob = cv2.GaussianBlur(blob, (0, 0), rng.uniform(0.05, 0.12) * max(w8, h8))
        L = L * (1 - rng.uniform(0.25, 0.55) * blob)
    L = cv2.resize(L.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
    light = np.array([1.0, 1.0, 1.0], np.float32)
    r = rng.random()
    if r < 0.35:  # warm (tungsten / late sun)
        light = np.array([1.0, rng.uniform(0.84, 0.93), rng.uniform(0.65, 0.82)], np.float32)
    elif r < 0.6:  # cool (shade, LEDs)
        light = np.array([rng.uniform(0.82, 0.93), rng.uniform(0.92, 0.98), 1.0], np.float32)
    rad = albedo
    rad *= L[..., None]
    rad *= light
    if "hard_shadow" in conds:  # an object between lamp and page: one or two straight hard edges
        xx = np.arange(W, dtype=np.float32)[None, :]
        yy = np.arange(H, dtype=np.float32)[:, None]
        ratio = rng.uniform(0.25, 0.5)
        pen_w = rng.uniform(1.0, 4.0) * max(1, max(W, H) / 1000)
        a1 = rng.uniform(0, 2 * np.pi)
        px, py = rng.uniform(0.2, 0.8) * W, rng.uniform(0.2, 0.8) * H
        if rng.random() < 0.6:  # shadow edge crosses the digit
            px, py = digit_box_frame[[0, 2]].mean(), digit_box_frame[[1, 3]].mean()
            px += rng.uniform(-0.3, 0.3) * (digit_box_frame[2] - digit_box_frame[0])
        d = math.cos(a1) * (xx - px) + math.sin(a1) * (yy - py)
        m = np.clip(d / pen_w + 0.5, 0, 1)
        if rng.random() < 0.4:  # a corner of the shadow
            a2 = a1 + rng.uniform(0.5, 1.5) * rng.choice([-1, 1])
            d2 = math.cos(a2) * (xx - px - rng.uniform(-0.2, 0.2) * W) + math.sin(a2) * (yy - py)
            m = m * np.clip(d2 / pen_w + 0.5, 0, 1)
        tint = np.array([rng.uniform(0.85, 1.0), rng.uniform(0.92, 1.0), 1.0], np.float32)  # skylight in shade
        rad *= (1 - m[..., None] * (1 - ratio * tint))
    if "glare" in conds or (every and rng.random() < 0.08):
        gx, gy = rng.uniform(0.1, 0.9) * W, rng.uniform(0.1, 0.9) * H
        sx, sy = rng.uniform(0.06, 0.2) * W, rng.uniform(0.05, 0.18) * H
        xx = (np.arange(w8, dtype=np.float32)[None, :] * 8 - gx) / sx
        yy = (np.arange(h8, dtype=np.float32)[:, None] * 8 - gy) / sy
        g = np.exp(-0.5 * (xx * xx + yy * yy)) ** rng.uniform(0.7, 1.6)
        amp = rng.uniform(0.4, 0.9)
        dc = ((digit_box_frame[[0, 2]].mean() - gx) / sx) ** 2 + ((digit_box_frame[[1, 3]].mean() - gy) / sy) ** 2
        amp = min(amp, 0.5 / max(1e-3, math.exp(-0.5 * dc)))  # keep the digit readable through the glare
        G = cv2.resize((amp * g).astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
        rad += (G[..., None] * light * 0.8)
    # optics: defocus or motion blur
    dh_px = digit_box_frame[3] - digit_box_frame[1]
    stroke_px = pen.get("width", 0.12 * dh_px)  # fill-mode pens keep MNIST's own width, ~12% of the height
    sig = rng.uniform(0.3, 1.2) * max(1, max(W, H) / 1200)
    if tough and rng.random() < 0.4:
        sig = rng.uniform(1.0, 2.5) * max(1, max(W, H) / 1200)
    sig = min(sig, max(0.6, 0.45 * stroke_px), 0.03 * dh_px + 0.4)
    rad = cv2.GaussianBlur(rad, (0, 0), sig)
    if "motion" in conds:
        ln = min(rng.uniform(0.05, 0.16) * dh_px, 30.0)
        ln = max(ln, 3.0)
        k = int(math.ceil(ln)) | 1
        ker = np.zeros((k, k), np.float32)
        a = rng.uniform(0, np.pi)
        c = k / 2 - 0.5
        cv2.line(ker, (int(round((c - ln / 2 * math.cos(a)) * 8)), int(round((c - ln / 2 * math.sin(a)) * 8))),
                 (int(round((c + ln / 2 * math.cos(a)) * 8)), int(round((c + ln / 2 * math.sin(a)) * 8))), 1.0, 1,
                 cv2.LINE_AA, 3)
        ker /= ker.sum()
        rad = cv2.filter2D(rad, -1, ker)
    # auto exposure on the bright part of the scene
    sample = rad[::7, ::7].mean(axis=2)
    p90 = float(np.percentile(sample, 90))
    low = "low_light" in conds
    target = rng.uniform(0.04, 0.12) if low else rng.uniform(0.55, 0.85)
    rad *= target / max(p90, 1e-4)
    # sensor noise (signal-dependent), partly blotchy like a phone's denoised output
    shot = rng.uniform(0.0003, 0.0012) if not low else rng.uniform(0.001, 0.0025)
    read = rng.uniform(0.002, 0.006) if not low else rng.uniform(0.004, 0.009)
    if tough and not low:
        shot *= 2
    hh2, ww2 = H // 2 + 1, W // 2 + 1
    half = cv2.resize(rad, (ww2, hh2), interpolation=cv2.INTER_LINEAR)
    sd = np.sqrt(np.maximum(half.mean(axis=2, keepdims=True), 0) * shot + read * read)
    # mostly luminance grain: the phone's denoiser removes most of the colour noise
    nz = rng.standard_normal((hh2, ww2, 1), dtype=np.float32) + \
        0.35 * rng.standard_normal((hh2, ww2, 3), dtype=np.float32)
    nz = cv2.resize(sd * nz * 1.5, (W, H), interpolation=cv2.INTER_LINEAR)
    rad += nz
    if low:  # the phone brightens the dark shot and lifts the blacks: dim, noisy, low contrast
        rad = rad * rng.uniform(2.0, 4.0) + rng.uniform(0.003, 0.02)
    # white balance (imperfect), tone curve (gamma 2), phone sharpening
    wb = light.mean() / light
    wb = 1 + (wb - 1) * rng.uniform(0.5, 1.0)  # the phone corrects most of the light's colour
    rad *= wb / wb.max()
    np.clip(rad, 0, 1, out=rad)
    img8 = cv2.convertScaleAbs(cv2.sqrt(rad), alpha=255.0)
    if rng.random() < 0.6:
        amt = rng.uniform(0.2, 0.7)
        img8 = cv2.addWeighted(img8, 1 + amt, cv2.GaussianBlur(img8, (0, 0), 1.2), -amt, 0)
    if out_size is not None:
        img8 = cv2.resize(img8, out_size, interpolation=cv2.INTER_AREA)
    q = int(rng.integers(70, 96))
    if "jpeg_heavy" in conds:
        q = int(rng.integers(40, 61))
    return img8, ("jpg", q), sorted(conds) + [tool, colour, paper_kind]


# --------------------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------------------

def _write(path, img, fmt):
    if fmt == "png":
        if img.ndim == 3 and img.shape[2] == 3:
            img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        elif img.ndim == 3 and img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA)
        ok = cv2.imwrite(str(path), img)
    else:
        ok = cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, fmt[1]])
    if not ok:
        raise OSError(f"could not write {path}")


def render_item(kind, x_test, y_test, seed, i):
    """Image ``i`` of a kind for a seed, alone: (image, format, file name, label, MNIST index, tags)."""
    kid = KINDS.index(kind)
    perm = np.random.default_rng([seed, kid, 999_983]).permutation(len(x_test))  # prefix-stable: N=5 is N=60's first 5
    idx = int(perm[i % len(perm)])
    rng = np.random.default_rng([seed, kid, int(i)])
    glyph = Glyph(x_test[idx])
    label = int(y_test[idx])
    if kind.startswith("photo"):
        others = [Glyph(x_test[j]) for j in rng.choice(len(x_test), size=2)]
        img, fmt, tags = render_photo(kind, glyph, rng, others)
        return img, fmt, f"{kind}/{i:04d}.jpg", label, idx, tags
    img, ext = {"sketch_white": render_sketch_white, "sketch_transparent": render_sketch_transparent,
                "sketch_styles": render_sketch_styles}[kind](glyph, rng)
    return img, ext, f"{kind}/{i:04d}.png", label, idx, []


def render_kind(kind, x_test, y_test, seed, n, out: Path, log=None):
    (out / kind).mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        img, fmt, name, label, idx, tags = render_item(kind, x_test, y_test, seed, i)
        _write(out / name, img, fmt)
        rows.append((name, label))
        if log is not None:
            log.append((name, label, int(idx), " ".join(map(str, tags))))
    with open(out / f"{kind}.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "label"])
        w.writerows(rows)
    return rows


def contact_sheet(out: Path, kinds, path, per_row=24, thumb=128):
    rows = []
    for kind in kinds:
        with open(out / f"{kind}.csv") as fh:
            files = [r["file"] for r in csv.DictReader(fh)][:per_row]
        cells = []
        for f in files:
            im = cv2.imread(str(out / f), cv2.IMREAD_UNCHANGED)
            if im.ndim == 2:
                im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGR)
            if im.shape[2] == 4:  # show transparency over a checkerboard
                yy, xx = np.indices(im.shape[:2])
                cb = np.where(((yy // 8 + xx // 8) % 2)[..., None] == 0, 200, 150).astype(np.float32)
                a = im[..., 3:4].astype(np.float32) / 255
                im = (im[..., :3] * a + cb * (1 - a)).astype(np.uint8)
            s = thumb / max(im.shape[:2])
            im = cv2.resize(im, (max(1, int(im.shape[1] * s)), max(1, int(im.shape[0] * s))),
                            interpolation=cv2.INTER_AREA)
            cell = np.full((thumb + 4, thumb + 4, 3), 90, np.uint8)
            y0, x0 = (thumb + 4 - im.shape[0]) // 2, (thumb + 4 - im.shape[1]) // 2
            cell[y0:y0 + im.shape[0], x0:x0 + im.shape[1]] = im
            cells.append(cell)
        while len(cells) < per_row:
            cells.append(np.full((thumb + 4, thumb + 4, 3), 90, np.uint8))
        row = np.hstack(cells)
        label = np.full((22, row.shape[1], 3), 255, np.uint8)
        cv2.putText(label, kind, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        rows.append(np.vstack([label, row]))
    sheet = np.vstack(rows)
    cv2.imwrite(str(path), sheet)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=60, help="images per kind")
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: " + ",".join(KINDS))
    ap.add_argument("--contact-sheet", help="also save a PNG with up to --per-row thumbnails per kind, one row each")
    ap.add_argument("--per-row", type=int, default=24)
    ap.add_argument("--thumb", type=int, default=128, help="thumbnail size in the contact sheet (px)")
    ap.add_argument("--log", help="optional CSV with every image's MNIST index and scene tags")
    args = ap.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        ap.error(f"unknown kind(s) {bad}; choose from {KINDS}")
    mn = load_mnist()
    x_test, y_test = np.asarray(mn.x_test), np.asarray(mn.y_test)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = [] if args.log else None
    total = time.perf_counter()
    for kind in kinds:
        t = time.perf_counter()
        render_kind(kind, x_test, y_test, args.seed, args.n, out, log)
        dt = time.perf_counter() - t
        print(f"{kind:20s} {args.n} images in {dt:6.2f} s ({dt / max(1, args.n):.3f} s/image) -> {out / kind}.csv")
    dt = time.perf_counter() - total
    count = args.n * len(kinds)
    print(f"rendered {count} images in {dt:.2f} s ({dt / max(1, count):.3f} s/image on average)")
    if log is not None:
        with open(args.log, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["file", "label", "mnist_test_index", "tags"])
            w.writerows(log)
    if args.contact_sheet:
        contact_sheet(out, kinds, args.contact_sheet, args.per_row, args.thumb)
        print(f"contact sheet: {args.contact_sheet}")


if __name__ == "__main__":
    main()
