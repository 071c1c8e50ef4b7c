"""The program for an image-classification request: transformers' image-classification pipeline."""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import DEVICE, file_name, header, literal

PICTURE_NOTE = ("# The app opens a picture as PIL does here, and also turns it upright (EXIF), flattens a\n"
                "# transparent one onto white and shrinks one over 1024 px first (pipelines/readers/images.py).")


def code(request, image: str | None = None) -> str:
    ckpt = registry.task("image-classification").checkpoint(request.model_id)
    return "\n".join([
        header(f"Image classification with {ckpt.label}", "torch", "transformers", "pillow"),
        "import torch\nfrom PIL import Image\nfrom transformers import AutoImageProcessor, pipeline\n",
        f"MODEL = {literal(request.model_id)}",
        f"IMAGE = {literal(file_name(image))}  # put your picture here (the app ran on this file)",
        f"TOP_K = {request.top_k}\n",
        DEVICE,
        "# The PIL image processor, as the app (the torchvision one resizes with slightly different numbers).",
        'processor = AutoImageProcessor.from_pretrained(MODEL, backend="pil")',
        'classifier = pipeline("image-classification", model=MODEL, image_processor=processor, device=device,',
        "                      dtype=dtype)",
        PICTURE_NOTE,
        'picture = Image.open(IMAGE).convert("RGB")',
        "for result in classifier(picture, top_k=TOP_K):",
        '    print(f"{result[\'score\']:.4f}  {result[\'label\']}")',
    ]) + "\n"
