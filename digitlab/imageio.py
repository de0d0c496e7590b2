"""Turn files, bytes and arrays into RGB(A) uint8 arrays, safely.

Everything that reaches the pipeline goes through ``load_image`` (files, bytes) or
``as_image_array`` (arrays): EXIF orientation applied, 16-bit, CMYK, palette and
multi-frame images converted, decompression bombs refused from the header alone.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError
from .photo_stages import WORKING_SIDE

# A 12 MP phone photo is 12e6 pixels; 50 MP covers today's largest phone sensors.
MAX_PIXELS = int(os.environ.get("DIGITLAB_MAX_PIXELS", 50_000_000))
# Every pipeline works on photos at WORKING_SIDE pixels on the long side, so big JPEGs are decoded at a reduced
# size no smaller than that (they are shrunk to the working size next anyway).
MAX_FILE_BYTES = 50 * 1024 * 1024


def _check_pixels(width: int, height: int, what: str) -> None:
    if width < 1 or height < 1:
        raise ImageError(f"{what}: the image is empty ({width}x{height} pixels)")
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{what}: {width}x{height} = {width * height / 1e6:.0f} megapixels is over the "
            f"{MAX_PIXELS / 1e6:.0f} MP limit (set DIGITLAB_MAX_PIXELS to raise it); refused before decoding"
        )


def _to_rgb_or_rgba(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        return Image.fromarray(((arr - lo) * scale).astype(np.uint8)).convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return img.convert("RGBA")
    return img.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV, RGB


def load_image(source: str | os.PathLike | bytes, name: str | None = None) -> np.ndarray:
    """Decode an image file or its bytes to an RGB or RGBA uint8 array, upright per EXIF."""
    what = name or (str(source) if not isinstance(source, bytes) else "image")
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"{what}: no such file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageError(f"{what}: {size / 1e6:.0f} MB is over the {MAX_FILE_BYTES / 1e6:.0f} MB file limit")
        data = path.read_bytes()
    if len(data) == 0:
        raise ImageError(f"{what}: the file is empty (0 bytes)")
    head = data[:32]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))  # reads the header only
            _check_pixels(img.width, img.height, what)
            if getattr(img, "n_frames", 1) > 1:
                img.seek(0)  # animated GIF / multi-page TIFF: the first frame
            if img.format == "JPEG" and max(img.size) >= 2 * WORKING_SIDE:
                # libjpeg scales in the DCT: the smallest of 1/2, 1/4, 1/8 size still at the working size.
                fit = WORKING_SIDE / max(img.size)
                img.draft("RGB", (math.ceil(img.width * fit), math.ceil(img.height * fit)))
            img = ImageOps.exif_transpose(img)
            img = _to_rgb_or_rgba(img)
            arr = np.asarray(img)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{what}: not an image digitlab can read ({_describe(head)})") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{what}: refused before decoding: more megapixels than the {MAX_PIXELS / 1e6:.0f} MP "
                         f"limit, a decompression bomb ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{what}: the image is damaged or truncated ({exc})") from None
    return arr


def _describe(head: bytes) -> str:
    """Name the format from magic bytes, so the refusal says what the file is."""
    for magic, name in ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG", "PNG"), (b"GIF8", "GIF"), (b"RIFF", "WebP")):
        if head.startswith(magic):
            return f"a damaged or truncated {name} file"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftyphevc"):
        return "HEIC/HEIF, as iPhones save; export it as JPEG or PNG"
    if head[4:12] == b"ftypavif":
        return "AVIF; export it as JPEG or PNG"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.lstrip().startswith((b"<svg", b"<?xml")):
        return "SVG/XML, a vector format; export it as PNG"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "it looks like text"
    return "unknown format; use JPEG, PNG, WebP, GIF, BMP or TIFF"


def as_image_array(image) -> np.ndarray:
    """Coerce an array (any numeric dtype; 2-D, or 3-D with 1-4 channels) to RGB(A) uint8.

    Floats are read as 0..1 when their maximum is <= 1, else as 0..255; other integers are
    rescaled by their dtype's range. PIL images are accepted too.
    """
    if isinstance(image, Image.Image):
        _check_pixels(image.width, image.height, "image")
        return np.asarray(_to_rgb_or_rgba(ImageOps.exif_transpose(image)))
    if isinstance(image, (str, os.PathLike, bytes)):
        return load_image(image)
    try:
        arr = np.asarray(image)
    except Exception as exc:
        raise ImageError(f"cannot read this as an image ({type(image).__name__})") from exc
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ImageError(f"an image must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise ImageError(f"an image must be HxW or HxWxC with C in 1..4, got shape {arr.shape}")
    _check_pixels(arr.shape[1], arr.shape[0], "image")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype.kind == "f":
        arr = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        scale = 255.0 if arr.max(initial=0) <= 1.0 else 1.0
        arr = np.clip(arr * scale, 0, 255).astype(np.uint8)
    elif arr.dtype != np.uint8:
        info = np.iinfo(arr.dtype)
        arr = ((arr.astype(np.float64) - info.min) * (255.0 / (info.max - info.min))).astype(np.uint8)
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=2)
    if arr.shape[2] == 2:  # grey + alpha
        return np.dstack([arr[..., 0]] * 3 + [arr[..., 1]])
    return np.ascontiguousarray(arr)


DATA_URL_PREFIX = "data:image/"


def load_data_url(url: str, name: str = "drawing") -> np.ndarray:
    """Decode a ``data:image/...;base64,`` URL (what a browser canvas sends) like a file."""
    head, _, payload = url.partition(",")
    if not head.startswith(DATA_URL_PREFIX) or not head.endswith(";base64"):
        raise ImageError(f"{name}: not a base64 image data URL")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError(f"{name}: the data URL is not valid base64") from None
    return load_image(data, name=name)


def load_upload(source) -> np.ndarray | None:
    """An upload as the app receives it: a file path (named by its base name only, never the
    server's folders, in errors), a data URL, an array, or None (nothing uploaded yet)."""
    if source is None or (isinstance(source, str) and not source):
        return None
    if isinstance(source, str) and source.startswith(DATA_URL_PREFIX):
        return load_data_url(source)
    if isinstance(source, (str, os.PathLike)):
        return load_image(source, name=Path(source).name)
    return as_image_array(source)


def to_gray(image: np.ndarray) -> np.ndarray:
    """Plain luminance grey, for images that are still colour."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
