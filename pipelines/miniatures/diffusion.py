"""Miniatures of the text-to-image checkpoints: SD-Turbo and its tiny VAE decoder, TAESD.

`sd_turbo` writes a complete diffusers pipeline folder (model_index.json + one subfolder per
component) with the classes of the real stabilityai/sd-turbo: UNet2DConditionModel, AutoencoderKL,
CLIPTextModel, CLIPTokenizer and EulerAncestralDiscreteScheduler, so `StableDiffusionPipeline.
from_pretrained(folder)` runs exactly as it does on the hub repo. The config fields follow the real
ones (SD 2.1 family: linear-projection attention, head counts per block, 4 latent channels, an
8x VAE, CLIP's 77-token window and its real BPE vocabulary); only widths and depths shrink, so a
256x256 image takes well under a second on a CPU.

`taesd` writes an AutoencoderTiny folder like madebyollin/taesd (same block layout: 4 stages, 8x
upsampling, 4 latent channels), with narrow channels.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.miniatures.text_tokenizers import VOCAB

# As in the published turbo checkpoints (sd-turbo, sdxl-turbo): Euler ancestral with "trailing"
# timesteps, so that 1 step starts from the noisiest timestep (999) the model was distilled for.
# prediction_type "epsilon" is assumed from sdxl-turbo's published config (not checked on the hub).
SCHEDULER_CONFIG = dict(
    num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
    prediction_type="epsilon", timestep_spacing="trailing", steps_offset=1,
)
CLIP_WINDOW = 77  # CLIP's position embeddings: 75 prompt tokens + start and end


def _clip_tokenizer():
    """CLIP's real BPE (assets/vocab/clip), loaded the way the real tokenizer folder is loaded.

    transformers 5's CLIPTokenizer(...) takes an in-memory vocabulary, so the files go through
    `from_pretrained` on a folder holding vocab.json and merges.txt, like the hub repo's tokenizer/.
    """
    import shutil
    import tempfile

    from transformers import CLIPTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        for name in ("vocab.json", "merges.txt"):
            shutil.copy(VOCAB / "clip" / name, tmp)
        # SD 2.x (OpenCLIP-H) pads with "!" rather than the end token; the real tokenizer does too.
        return CLIPTokenizer.from_pretrained(tmp, model_max_length=CLIP_WINDOW, pad_token="!")


def _text_encoder(vocab_size: int, hidden: int):
    from transformers import CLIPTextConfig, CLIPTextModel

    # Real: hidden 1024, 23 layers, 16 heads, intermediate 4096, act "gelu" (OpenCLIP-H), and the
    # legacy special ids 0/2/1 its config carries.
    config = CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=CLIP_WINDOW, hidden_act="gelu", projection_dim=hidden,
        bos_token_id=0, eos_token_id=2, pad_token_id=1,
    )
    return CLIPTextModel(config)


def _unet(cross_attention_dim: int):
    from diffusers import UNet2DConditionModel

    # Real (SD 2.1): block_out_channels (320, 640, 1280, 1280), attention_head_dim (5, 10, 20, 20),
    # layers_per_block 2, norm_num_groups 32, sample_size 64 (512 px / 8).
    return UNet2DConditionModel(
        sample_size=32, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        attention_head_dim=(2, 4), cross_attention_dim=cross_attention_dim, use_linear_projection=True,
        norm_num_groups=8, act_fn="silu", flip_sin_to_cos=True, freq_shift=0,
    )


def _vae():
    from diffusers import AutoencoderKL

    # Four stages like the real SD VAE ((128, 256, 512, 512)), so it is also an 8x autoencoder and
    # the pipeline computes the same latent size; scaling_factor is SD's 0.18215.
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1, norm_num_groups=4, act_fn="silu", sample_size=256, scaling_factor=0.18215,
    )


def sd_turbo(folder: Path) -> None:
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionPipeline

    tokenizer = _clip_tokenizer()
    hidden = 32
    pipe = StableDiffusionPipeline(
        vae=_vae(), text_encoder=_text_encoder(len(tokenizer), hidden), tokenizer=tokenizer,
        unet=_unet(hidden), scheduler=EulerAncestralDiscreteScheduler(**SCHEDULER_CONFIG),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)


def taesd(folder: Path) -> None:
    from diffusers import AutoencoderTiny

    # Real: 64 channels in every stage, (1, 3, 3, 3) encoder and (3, 3, 3, 1) decoder blocks.
    AutoencoderTiny(
        encoder_block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1), latent_channels=4,
    ).save_pretrained(folder)
