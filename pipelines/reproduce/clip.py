"""The programs for the CLIP tab's three endpoints: zero-shot labels and ranked captions through transformers'
zero-shot-image-classification pipeline, picture search with CLIPModel's two towers written out."""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import DEVICE, file_name, header, literal, text
from pipelines.reproduce.image_classification import PICTURE_NOTE
from pipelines.tasks.clip_retrieval import GallerySearch


def code(request, image: str | None = None, template: str | None = None) -> str:
    """A GallerySearch: the search program. TextsForImage: zero-shot labels when `template` is given
    (the labels' template), else ranked captions."""
    ckpt = registry.task("clip").checkpoint(request.model_id)
    if isinstance(request, GallerySearch):
        return _search(request, ckpt)
    if template is None:
        what, texts, hypothesis = "Captions ranked for a picture", "CAPTIONS", "{}"
        comment = '"{}": each caption as it is'
    else:
        what, texts, hypothesis = "Zero-shot labels", "LABELS", _format_string(template)
        comment = "{} is where each label goes: CLIP was trained on captions"
        if "{0}" in hypothesis:
            comment = "{0} is where each label goes (each time): CLIP was trained on captions"
    return "\n".join([
        header(f"{what} with {ckpt.label}", "torch", "transformers", "pillow"),
        "import torch\nfrom PIL import Image\nfrom transformers import CLIPProcessor, pipeline\n",
        f"MODEL = {literal(request.model_id)}",
        f"IMAGE = {literal(file_name(image))}  # put your picture here (the app ran on this file)",
        f"{texts} = {_strings(request.names)}",
        f"TEMPLATE = {literal(hypothesis)}  # {comment}\n",
        DEVICE,
        "# The PIL image processor, as the app (the torchvision one resizes with slightly different numbers).",
        'processor = CLIPProcessor.from_pretrained(MODEL, backend="pil")',
        'clip = pipeline("zero-shot-image-classification", model=MODEL, tokenizer=processor.tokenizer,',
        "                image_processor=processor.image_processor, device=device, dtype=dtype)",
        PICTURE_NOTE,
        'picture = Image.open(IMAGE).convert("RGB")',
        "# Probabilities: a softmax over the texts given (CLIP's cosine similarity x its learned scale),",
        '# so they sum to 1 and say "which of these", not "how well". (The app cuts a text at 77 tokens.)',
        f"for result in clip(picture, candidate_labels={texts}, hypothesis_template=TEMPLATE):",
        '    print(f"{result[\'score\']:.4f}  {result[\'label\']}")',
    ]) + "\n"


def _format_string(template: str) -> str:
    """The app's template ("a photo of a {label}") as the pipeline's format string ("a photo of a {}")."""
    escaped = template.replace("{", "{{").replace("}", "}}")
    return escaped.replace("{{label}}", "{}" if template.count("{label}") == 1 else "{0}")


def _strings(values) -> str:
    listed = literal(list(values))
    if len(listed) <= 80:
        return listed
    return "[\n" + "".join(f"    {text(v, 8)},\n" for v in values) + "]"


def _search(request: GallerySearch, ckpt) -> str:
    names = [file_name(p) for p in request.paths]
    return "\n".join([
        header(f"Pictures ranked by a text with {ckpt.label}", "torch", "transformers", "pillow"),
        "import os\n\nimport torch\nfrom PIL import Image\nfrom transformers import CLIPModel, CLIPProcessor\n",
        f"MODEL = {literal(request.model_id)}",
        f"QUERY = {text(request.query)}",
        '# The pictures the app ranked (its examples are in its repository, under assets/images): put them',
        "# in this folder. (The app ranks two files with the same bytes once.)",
        'FOLDER = "pictures"',
        f"NAMES = {_strings(names)}\n",
        DEVICE,
        'processor = CLIPProcessor.from_pretrained(MODEL, backend="pil")',
        "model = CLIPModel.from_pretrained(MODEL, dtype=dtype).to(device).eval()",
        PICTURE_NOTE,
        'pictures = [Image.open(os.path.join(FOLDER, name)).convert("RGB") for name in NAMES]',
        "with torch.no_grad():",
        '    pixels = processor.image_processor(images=pictures, return_tensors="pt")["pixel_values"]',
        "    images = model.get_image_features(pixel_values=pixels.to(device, dtype)).pooler_output",
        "    # CLIP reads at most 77 tokens of a text.",
        '    words = processor.tokenizer([QUERY], truncation=True, max_length=77, return_tensors="pt")',
        "    query = model.get_text_features(**words.to(device)).pooler_output",
        "    images = torch.nn.functional.normalize(images.float(), dim=-1)",
        "    query = torch.nn.functional.normalize(query.float(), dim=-1)",
        "    similarity = (query @ images.T)[0]  # the cosine: CLIP's raw match, -1 to 1",
        "    # A softmax over the pictures of the cosine x CLIP's learned scale: which picture, not how well.",
        "    probability = (similarity * model.logit_scale.exp().float()).softmax(dim=-1)",
        'print("rank  picture  similarity  probability")',
        "order = similarity.argsort(descending=True, stable=True).tolist()",
        "for rank, i in enumerate(order, 1):",
        '    print(f"{rank:>4}  {NAMES[i]}  {similarity[i]:.4f}  {probability[i]:.4f}")',
    ]) + "\n"
