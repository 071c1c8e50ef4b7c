"""Open any image a person may upload and turn it into a plain RGB picture of sensible size.

    from pipelines.readers.images import open_image
    img = open_image("photo.heic.jpg")   # PIL.Image.Image, mode "RGB", longest side <= WORK_SIDE

Phones, scanners and the web produce more than RGB JPEGs: transparent PNGs (composited on white, as a
viewer shows them), palette GIFs (first frame), CMYK JPEGs, 16-bit scans (scaled to 8 bits, not
clipped), EXIF-rotated photos (turned upright), and 100-megapixel pictures (decoded at reduced size
where the format allows: a 12000x9000 JPEG is decoded at 1/8 scale, so it costs little memory).
Everything that goes wrong becomes a UserInputError whose sentence names the file and says what to do.
The Vision Transformers here look at 224x224 pixels, so nothing is lost by working at WORK_SIDE.
"""

from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path
from typing import TYPE_CHECKING, Union

from pipelines.core.errors import UserInputError

if TYPE_CHECKING:  # PIL is imported where it is used, not at import time
    import PIL.Image

# Largest picture accepted, in pixels (a 12000x12500 photo). PIL's own guard warns above its
# MAX_IMAGE_PIXELS and refuses above twice that; we set it to this limit so that its refusal is only a
# backstop behind ours (we check the header's size before decoding a single pixel).
MAX_PIXELS = 150_000_000
WORK_SIDE = 1024  # longest side kept after opening: well above the models' 224-pixel input
FORMATS_HINT = "PNG, JPEG, GIF, WebP, BMP or TIFF"
ORIENTATION = 0x0112  # the EXIF tag

ImageSource = Union[str, Path, bytes, "PIL.Image.Image"]


def open_image(source: ImageSource, name: str | None = None):
    """A decoded RGB `PIL.Image` from a path, a `data:` URL, raw bytes or an open PIL image."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # idempotent; see MAX_PIXELS
    name = name or describe_source(source)
    if source is None or (isinstance(source, str) and not source.strip()):
        raise UserInputError("No image was given: upload a picture, take one with the webcam, or paste one.")
    if isinstance(source, Image.Image):
        img = source
    else:
        img = _open(source, name)
    _check_size(img, name)
    try:
        img.seek(0)  # animated GIF/WebP/APNG: the first frame
    except (EOFError, AttributeError, ValueError):
        pass
    if img.format == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale when that still covers WORK_SIDE
        img.draft(None, (WORK_SIDE, WORK_SIDE))
    try:
        img.load()
    except Image.DecompressionBombError:
        raise _too_large(name, img.size) from None
    except (OSError, ValueError, SyntaxError, IndexError, MemoryError) as exc:
        raise UserInputError(f"The image {name} is damaged or incomplete ({_reason(exc)}). "
                             "Save or download it again, or try another picture.") from None
    if max(img.size) > WORK_SIDE:  # shrink before turning, so a huge PNG is not copied at full size
        img = _reduced(img)
    return _upright(to_rgb(img))


def describe_source(source) -> str:
    if isinstance(source, (str, Path)) and not str(source).startswith("data:"):
        return f"“{Path(source).name}”"
    return "you gave"


def to_rgb(img):
    """RGB from any PIL mode: transparency composited on white, high bit depths scaled to 8 bits."""
    from PIL import Image

    mode = img.mode
    if mode == "RGB":
        return img
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        img = _to_8bit(img)
    elif mode in ("LA", "La", "PA", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        white = Image.new("RGB", img.size, (255, 255, 255))
        white.paste(img, mask=img.getchannel("A"))
        return white
    return img.convert("RGB")


def _open(source, name: str):
    from PIL import Image, UnidentifiedImageError

    if isinstance(source, str) and source.startswith("data:"):
        source = _data_url_bytes(source)
    if isinstance(source, bytes):
        if not source:
            raise UserInputError("The image is empty (0 bytes). Choose another file.")
        source = io.BytesIO(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise UserInputError(f"The image file {name} was not found. Upload it again.")
        if path.stat().st_size == 0:
            raise UserInputError(f"The file {name} is empty (0 bytes). Choose another file.")
    try:
        return Image.open(source)
    except Image.DecompressionBombError:
        raise UserInputError(f"The image {name} is far too large to open safely (over "
                             f"{2 * MAX_PIXELS // 10**6} megapixels). Shrink it first.") from None
    except UnidentifiedImageError:
        raise UserInputError(f"The file {name} is not an image that can be read. "
                             f"Upload a {FORMATS_HINT} picture.") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise UserInputError(f"The image {name} could not be read ({_reason(exc)}). "
                             f"Upload a {FORMATS_HINT} picture.") from None


def _data_url_bytes(url: str) -> bytes:
    header, _, payload = url.partition(",")
    if ";base64" not in header:
        raise UserInputError("The pasted image is not base64-encoded. Paste or upload the picture again.")
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        raise UserInputError("The pasted image data is damaged. Paste or upload the picture again.") from None


def _check_size(img, name: str) -> None:
    width, height = img.size
    if width < 1 or height < 1:
        raise UserInputError(f"The image {name} has no pixels ({width}x{height}). Choose another picture.")
    if width * height > MAX_PIXELS:
        raise _too_large(name, img.size)


def _too_large(name: str, size) -> UserInputError:
    megapixels = size[0] * size[1] / 1e6
    return UserInputError(
        f"The image {name} is {size[0]}x{size[1]} pixels ({megapixels:,.0f} megapixels); the limit is "
        f"{MAX_PIXELS // 10**6} megapixels. Shrink it (the models only look at 224x224 pixels) and try again.")


def _upright(img):
    """Turn a photo as its EXIF orientation says (phones store sideways pixels plus a tag). PIL keeps
    the EXIF block through resize and convert, so this works on the reduced RGB picture."""
    from PIL import ImageOps

    try:
        if img.getexif().get(ORIENTATION, 1) in (1, None):
            return img  # the usual case: no copy
        return ImageOps.exif_transpose(img)
    except Exception:  # a malformed EXIF block: show the pixels as stored rather than fail
        return img


def _reduced(img):
    """Longest side WORK_SIDE, aspect kept (a new image: the caller's is never changed)."""
    from PIL import Image

    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = to_rgb(img)  # resampling needs a plain mode (palette or 16-bit would be mangled)
    scale = WORK_SIDE / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _to_8bit(img):
    """Gray 8-bit from 16/32-bit integer or float pixels: scaled, never clipped to white."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(img).astype(np.float64)
    if img.mode.startswith("I;16"):
        scaled = pixels / 257.0  # 65535 -> 255
    else:
        low, high = float(pixels.min()), float(pixels.max())
        if img.mode == "F" and low >= 0.0 and high <= 1.0:
            scaled = pixels * 255.0
        elif low >= 0.0 and high <= 255.0:
            scaled = pixels
        elif low >= 0.0 and high <= 65535.0:
            scaled = pixels / 257.0
        else:  # an unusual range: stretch it to fill 0-255
            scaled = (pixels - low) * (255.0 / max(high - low, 1e-12))
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))  # 2-D uint8: mode L


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
