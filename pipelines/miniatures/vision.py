"""Miniatures of the image classifiers: ViT base/16 and DeiT small/16 (both `ViTForImageClassification`).

Config fields follow the real checkpoints (224-pixel input, 16-pixel patches, 1,000 ImageNet classes with
their real `id2label`); only the width and depth shrink. Each folder gets the real checkpoint's
`preprocessor_config.json` as published (legacy `feature_extractor_type` keys included), so the
miniature exercises the same processor-loading path as the hub download: ViT squashes the image to
224x224 with mean/std 0.5; DeiT resizes to 256 and center-crops 224 with ImageNet's mean/std.

imagenet_classes.txt: the 1,000 ImageNet-1k class names in class-index order (WordNet lemmas, the same
strings as the real checkpoints' `id2label`), taken from `timm` 1.0.31's `timm/data/_info/`
(imagenet_synsets.txt + imagenet_synset_to_lemma.txt; timm is Apache-2.0, WordNet's licence is
permissive). The hub cannot be reached here, and no other offline source of the names was found.
"""

from __future__ import annotations

import json
from pathlib import Path

CLASS_NAMES = Path(__file__).with_name("imagenet_classes.txt")

# preprocessor_config.json of google/vit-base-patch16-224 and facebook/deit-small-patch16-224.
VIT_PROCESSOR = {
    "do_normalize": True, "do_resize": True, "feature_extractor_type": "ViTFeatureExtractor",
    "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 2, "size": 224,
}
DEIT_PROCESSOR = {
    "crop_size": 224, "do_center_crop": True, "do_normalize": True, "do_resize": True,
    "feature_extractor_type": "DeiTFeatureExtractor", "image_mean": [0.485, 0.456, 0.406],
    "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": 256,
}


def imagenet_labels() -> dict[int, str]:
    names = CLASS_NAMES.read_text(encoding="utf-8").splitlines()
    if len(names) != 1000:
        raise RuntimeError(f"{CLASS_NAMES} should list 1000 ImageNet classes; it lists {len(names)}")
    return dict(enumerate(names))


def _classifier(folder: Path, processor: dict) -> None:
    from transformers import ViTConfig, ViTForImageClassification

    id2label = imagenet_labels()
    # Real sizes: ViT-B 768 wide x 12 layers, DeiT-S 384 x 12. Both: gelu, qkv bias, eps 1e-12.
    config = ViTConfig(
        image_size=224, patch_size=16, num_channels=3, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, hidden_act="gelu", layer_norm_eps=1e-12,
        qkv_bias=True, id2label=id2label, label2id={name: i for i, name in id2label.items()},
        architectures=["ViTForImageClassification"],
    )
    ViTForImageClassification(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(processor, indent=2), encoding="utf-8")


def vit(folder: Path) -> None:
    _classifier(folder, VIT_PROCESSOR)


def deit(folder: Path) -> None:
    _classifier(folder, DEIT_PROCESSOR)
