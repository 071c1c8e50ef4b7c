"""What the media "Look inside" views share: a picture as a small data: URI, and the patch grid of a Vision
Transformer (image classification, CLIP).

A view draws per-patch values over the picture the model saw, not over the upload: the processor resized
it (and DeiT also cropped it) to 224x224 before cutting it into patches, so the upload's own framing
would put the values on the wrong places. The picture is rebuilt from the pixel values themselves
(normalisation undone), so it is exactly what the model read.
"""

from __future__ import annotations

import base64
import io

JPEG_QUALITY = 85  # a 224x224 picture is about 10-15 KB: small enough to send with the view


def data_uri(picture, quality: int = JPEG_QUALITY) -> str:
    """A PIL picture as a JPEG `data:` URI (the view is plain HTML: no file to serve, nothing to clean up)."""
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def seen_picture(pixel_values, mean, std) -> str:
    """The first picture of a (batch, 3, H, W) pixel tensor, normalisation undone, as a data: URI."""
    import numpy as np
    from PIL import Image

    pixels = pixel_values[0].detach().float().cpu().numpy()
    pixels = pixels * np.asarray(std, dtype="float32")[:, None, None] + np.asarray(mean, dtype="float32")[:, None, None]
    rgb = (pixels.clip(0.0, 1.0).transpose(1, 2, 0) * 255).round().astype("uint8")
    return data_uri(Image.fromarray(rgb))


def patch_grid(vision_config) -> tuple[int, int]:
    """(rows, columns) of patches a ViT cuts its square input into: 14x14 for 224 px and 16 px patches."""
    side = int(vision_config.image_size) // int(vision_config.patch_size)
    return side, side
