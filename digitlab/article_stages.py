"""The article's own steps, kept as they were for the teaching baseline ("Tensorflow, MNIST and your own handwritten digits")."""

from __future__ import annotations

import cv2
import numpy as np

from .imageio import to_gray
from .mnist_stages import BOX_SIDE, FRAME_SIDE

def article_grayscale(image: np.ndarray) -> np.ndarray:
    """Plain luminance grey of the colour channels, as the article does (cv2.imread drops alpha)."""
    return to_gray(image)



def invert(gray: np.ndarray) -> np.ndarray:
    """Always invert: dark ink on white paper becomes white on black."""
    return 255 - gray


def article_threshold(gray: np.ndarray) -> np.ndarray:
    """Otsu's threshold to pure black and white, as the article does."""
    _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return out



def article_fit_box(image: np.ndarray, side: int = BOX_SIDE) -> np.ndarray:
    """The article's fit: resize the longer side to 20 px keeping the aspect ratio."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    return cv2.resize(image, (max(1, int(round(w * scale))), max(1, int(round(h * scale)))))



def resize_frame(image: np.ndarray, side: int = FRAME_SIDE) -> np.ndarray:
    """Squash the whole image to 28x28, as the article does first."""
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
