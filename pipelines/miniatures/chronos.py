"""Chronos-Bolt miniatures: the real ChronosBoltModelForForecasting (a T5 encoder-decoder over patches
of the series, with a quantile head), randomly initialised at toy size.

The config carries every field of the published chronos-bolt-small/-tiny config.json, including the
`chronos_config` block the chronos-forecasting library reads (context 2048, 64 steps per pass,
patches of 16, quantiles 0.1..0.9, a [REG] token) and `chronos_pipeline_class`, so
`BaseChronosPipeline.from_pretrained(folder)` takes the same path as for the hub checkpoint.
Only the sizes shrink. Chronos-Bolt has no tokenizer: it reads the numbers themselves.
"""

from __future__ import annotations

from pathlib import Path

# As in the published checkpoints; the miniatures change only the sizes below.
CHRONOS_CONFIG = {
    "context_length": 2048,
    "prediction_length": 64,
    "input_patch_size": 16,
    "input_patch_stride": 16,
    "quantiles": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "use_reg_token": True,
}
# Real sizes, for reference (and for benchmarks built at full size):
#   chronos-bolt-small: d_model 512, d_ff 2048, d_kv 64, 8 heads, 6 encoder + 6 decoder layers (48M)
#   chronos-bolt-tiny:  d_model 256, d_ff 1024, d_kv 64, 4 heads, 4 encoder + 4 decoder layers (9M)
REAL_SIZES = {
    "small": dict(d_model=512, d_ff=2048, d_kv=64, num_heads=8, num_layers=6, num_decoder_layers=6),
    "tiny": dict(d_model=256, d_ff=1024, d_kv=64, num_heads=4, num_layers=4, num_decoder_layers=4),
}


def config(**sizes):
    from transformers import T5Config

    return T5Config(
        architectures=["ChronosBoltModelForForecasting"],
        chronos_config=dict(CHRONOS_CONFIG),
        chronos_pipeline_class="ChronosBoltPipeline",
        classifier_dropout=0.0,
        decoder_start_token_id=0,
        dense_act_fn="relu",
        dropout_rate=0.1,
        eos_token_id=1,
        feed_forward_proj="relu",
        initializer_factor=0.05,
        is_encoder_decoder=True,
        is_gated_act=False,
        layer_norm_epsilon=1e-06,
        n_positions=512,
        pad_token_id=0,
        reg_token_id=1,
        relative_attention_max_distance=128,
        relative_attention_num_buckets=32,
        use_cache=True,
        vocab_size=2,  # only the decoder start token and [REG]
        **sizes,
    )


def _save(folder: Path, **sizes) -> None:
    from chronos.chronos_bolt import ChronosBoltModelForForecasting

    model = ChronosBoltModelForForecasting(config(**sizes))
    model.save_pretrained(folder)


def bolt_small(folder: Path) -> None:
    _save(folder, d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2, num_decoder_layers=2)


def bolt_tiny(folder: Path) -> None:
    _save(folder, d_model=32, d_ff=64, d_kv=16, num_heads=2, num_layers=1, num_decoder_layers=1)
