"""A light drawing canvas for the browser: the HTML, CSS and script of a ``gr.HTML`` component.

The brush is active from the first touch or click (mouse, pen and touch, through pointer
events). When a stroke ends the drawing is sent once, as a small PNG data URL, by setting the
component's value and triggering ``change``; Undo and Clear send the new drawing the same way
('' for an empty canvas). Ink is black on white.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CanvasSpec:
    width: int  # drawing resolution in canvas pixels
    height: int
    brush: int  # pen width in canvas pixels
    send_scale: float  # the PNG sent is this fraction of the drawing resolution
    hint: str  # shown over the empty canvas


# One digit: 5% of the side, like a felt pen on a sheet. It is sent at 140x140, five times
# MNIST's 28x28, which keeps every stroke's shape while the PNG stays around 2 KB.
DIGIT = CanvasSpec(280, 280, 14, 0.5, "Draw one digit here")
# A number: room for six digits in a row, sent at full resolution so each digit keeps ~100 px.
NUMBER = CanvasSpec(600, 200, 8, 1.0, "Write a number here")

CSS = """
.sketch { display: flex; flex-direction: column; gap: 6px; max-width: 440px; }
.sketch.wide { max-width: 900px; }
.sketch .pad { position: relative; }
.sketch canvas { width: 100%; height: auto; display: block; touch-action: none; cursor: crosshair;
                 background: #fff; border: 1px solid var(--border-color-primary); border-radius: 8px; }
.sketch .hint { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
                color: #999; pointer-events: none; font-size: 1.1em; }
.sketch.drawn .hint { display: none; }
.sketch .tools { display: flex; gap: 8px; }
.sketch .tools button { flex: 1; padding: 6px 10px; border-radius: 6px; border: 1px solid var(--border-color-primary);
                        background: var(--button-secondary-background-fill); color: var(--body-text-color); }
"""

JS = """
const root = element.querySelector('.sketch');
const canvas = root.querySelector('canvas');
const ctx = canvas.getContext('2d');
const brush = Number(root.dataset.brush);
const sendScale = Number(root.dataset.sendScale);
let strokes = [];
let current = null;

function setup() {
  ctx.lineWidth = brush; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  ctx.strokeStyle = '#000'; ctx.fillStyle = '#000';
}
function dot(p) { ctx.beginPath(); ctx.arc(p[0], p[1], brush / 2, 0, 2 * Math.PI); ctx.fill(); }
function segment(a, b) { ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke(); }
function repaint() {
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, canvas.width, canvas.height); setup();
  for (const s of strokes) { dot(s[0]); for (let i = 1; i < s.length; i++) segment(s[i - 1], s[i]); }
  root.classList.toggle('drawn', strokes.length > 0);
}
function at(e) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
}
function send() {
  if (!strokes.length) {
    props.value = '';
  } else {
    const out = document.createElement('canvas');
    out.width = Math.round(canvas.width * sendScale); out.height = Math.round(canvas.height * sendScale);
    const o = out.getContext('2d');
    o.imageSmoothingQuality = 'high';
    o.drawImage(canvas, 0, 0, out.width, out.height);
    props.value = out.toDataURL('image/png');
  }
  trigger('change');
}
canvas.addEventListener('pointerdown', (e) => {
  if (e.button > 0) return;
  e.preventDefault();
  canvas.setPointerCapture(e.pointerId);
  current = [at(e)];
  strokes.push(current);
  root.classList.add('drawn');
  setup(); dot(current[0]);
});
canvas.addEventListener('pointermove', (e) => {
  if (!current) return;
  e.preventDefault();
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  for (const ev of (events.length ? events : [e])) {
    const p = at(ev);
    segment(current[current.length - 1], p);
    current.push(p);
  }
});
function end(e) {
  if (!current) return;
  current = null;
  send();
}
canvas.addEventListener('pointerup', end);
canvas.addEventListener('pointercancel', end);
root.querySelector('.undo').addEventListener('click', () => { strokes.pop(); repaint(); send(); });
root.querySelector('.clear').addEventListener('click', () => { strokes = []; repaint(); send(); });
repaint();
root.dataset.ready = '1';
"""


def template(spec: CanvasSpec, label: str) -> str:
    """The component's HTML (fixed: the drawing lives in the canvas, not in the template)."""
    wide = " wide" if spec.width > 2 * spec.height else ""
    return (f'<div class="sketch{wide}" data-brush="{spec.brush}" data-send-scale="{spec.send_scale}">'
            f'<div class="pad"><canvas width="{spec.width}" height="{spec.height}" aria-label="{label}"></canvas>'
            f'<div class="hint">{spec.hint}</div></div>'
            '<div class="tools"><button type="button" class="undo">Undo</button>'
            '<button type="button" class="clear">Clear</button></div></div>')
