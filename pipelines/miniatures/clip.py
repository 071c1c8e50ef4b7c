"""Miniatures of CLIP ViT-B/32 and ViT-B/16 (`CLIPModel` + `CLIPProcessor`).

The tokenizer is CLIP's real BPE (assets/vocab/clip, 49,408 tokens), so "a photo of a cat" encodes to
the same ids as the real checkpoint: [49406, 320, 1125, 539, 320, 2368, 49407]. The config copies the
real one's fields, including the legacy text ids (bos 0, eos 2, pad 1) that make `CLIPTextTransformer`
pool at the highest token id (<|endoftext|>), and the real `preprocessor_config.json` (resize the short
side to 224 with bicubic, center-crop 224, CLIP's mean/std). Only widths and depths shrink.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.miniatures import ASSETS

CLIP_VOCAB = ASSETS / "vocab" / "clip"
PROCESSOR = {  # preprocessor_config.json of openai/clip-vit-base-patch32 (and /16)
    "crop_size": 224, "do_center_crop": True, "do_normalize": True, "do_resize": True,
    "feature_extractor_type": "CLIPFeatureExtractor",
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 3, "size": 224,
}


def _clip(folder: Path, patch_size: int) -> None:
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizerFast

    tokenizer = CLIPTokenizerFast(
        vocab=str(CLIP_VOCAB / "vocab.json"), merges=str(CLIP_VOCAB / "merges.txt"),
        unk_token="<|endoftext|>", bos_token="<|startoftext|>", eos_token="<|endoftext|>",
        pad_token="<|endoftext|>", model_max_length=77,
    )
    # Real: text 512 wide x 12 layers (8 heads), vision 768 x 12 (12 heads), projection 512.
    text = dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, max_position_embeddings=77, hidden_act="quick_gelu",
                bos_token_id=0, eos_token_id=2, pad_token_id=1)
    vision = dict(image_size=224, patch_size=patch_size, num_channels=3, hidden_size=32,
                  intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, hidden_act="quick_gelu")
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=32,
                        logit_scale_init_value=2.6592, architectures=["CLIPModel"])
    CLIPModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(PROCESSOR, indent=2), encoding="utf-8")


def clip_b32(folder: Path) -> None:
    _clip(folder, 32)


def clip_b16(folder: Path) -> None:
    _clip(folder, 16)
