"""Cross-attention between a source and an output (translation, summarization): where the decoder looked
in the source while it wrote each output token.

The output is fed back to the decoder ("teacher forcing"): one forward pass over the decoder's start
token(s) and the output's tokens gives, at the position before each output token, the attention the
decoder paid to every source token when it chose that token. This is the same computation generate()
made step by step (the decoder is causal, so later tokens cannot change an earlier row). Each row is
averaged over every decoder layer and every head: a distribution over the source tokens (it sums to 1,
padding excluded). It shows where the model looked, not why it chose the word.

The encoder's output over each source (a summary's text, a translation's sentences) is the one the task's
run kept (pipelines/inside/kept.py), when it is still there: only the decoder runs again.

The output ids are not kept by the tabs (they show text), so the output is tokenized again as a target
(Marian has a separate target vocabulary); a note says so when that text does not read back exactly.
Tokens are shown with the next-token page's piece helper, so that pieces join to the text exactly.
"""

from __future__ import annotations

from pipelines.explainers.next_token_inputs import pieces
from pipelines.inside import DIGITS, kept, rounded

MAX_OUTPUT_TOKENS = 512  # longer outputs are cut (a summary is at most 512 tokens; a sentence far fewer)


def start_ids(bundle) -> list[int]:
    """What generate() puts before the first output token: the decoder start (BART: </s>, Marian and T5:
    <pad>), then BART's forced <s> comes from the target tokenization itself."""
    config = bundle.model.generation_config
    start = config.decoder_start_token_id
    if start is None:
        start = bundle.model.config.decoder_start_token_id
    return [int(start)]


def align(bundle, sources: list[str], outputs: list[str], groups: list[list[int]] | None = None) -> list[dict]:
    """One alignment per (source, output) pair, computed in one batched pass (see the docstring).

    `groups`, one list per pair: a group number (from 0) for each source token; each row's weights are
    then also summed per group ("by_group": e.g. per sentence), from the unrounded weights."""
    import torch

    tokenizer = bundle.tokenizer
    encoded = tokenizer(sources, return_tensors="pt", padding=True, truncation=True).to(bundle.device)
    targets = [tokenizer(text_target=o, truncation=True, max_length=MAX_OUTPUT_TOKENS)["input_ids"] for o in outputs]
    start = start_ids(bundle)
    # target[:-1]: the last target token (</s>) is predicted, never read.
    decoder_rows = [start + t[:-1] for t in targets]
    width = max(len(r) for r in decoder_rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    decoder_ids = torch.tensor([r + [pad] * (width - len(r)) for r in decoder_rows], device=bundle.device)
    with torch.inference_mode():
        hidden = None
        if len(sources) == 1:  # the task decoded it alone: its run may have kept the encoder's output
            hidden = kept.encoder_output(bundle, encoded["input_ids"])
        else:  # translation's sentences, kept row by row from the run's batch
            hidden = kept.encoder_outputs(bundle, encoded["input_ids"], encoded["attention_mask"])
        if hidden is None:
            # The encoder on its own, so that its self-attention weights (sources x sources per head and layer,
            # 800 MB for a 1,024-token article) are never returned: only the decoder's are asked for.
            hidden = bundle.model.get_encoder()(**encoded).last_hidden_state
        # The decoder alone: the view needs its cross-attention, not the output layer's scores over the
        # vocabulary (DistilBART's 50,264-way layer is a quarter of the decoder's work).
        out = bundle.model.get_decoder()(input_ids=decoder_ids, encoder_hidden_states=hidden,
                                         encoder_attention_mask=encoded["attention_mask"], output_attentions=True,
                                         use_cache=False)
        # (layers, batch, heads, targets, sources) -> mean over layers and heads: (batch, targets, sources)
        weights = torch.stack([layer.float() for layer in out.cross_attentions]).mean(dim=(0, 2)).cpu()
    special = set(tokenizer.all_special_ids)
    results = []
    for b, (target, output) in enumerate(zip(targets, outputs)):
        source_ids = encoded["input_ids"][b][encoded["attention_mask"][b].bool()].tolist()
        rows = weights[b, :len(target), :len(source_ids)]
        shown = [k for k, token_id in enumerate(target) if token_id not in special]
        output_pieces = pieces(tokenizer, [target[k] for k in shown])
        read_back = tokenizer.decode(target, skip_special_tokens=True).strip()
        result = {
            "source_tokens": pieces(tokenizer, source_ids),
            "output_tokens": output_pieces,
            # `rounded` without a call per weight: a long summary aligned with an article has 60,000 of them
            "alignment": [[round(w, DIGITS) for w in rows[k].tolist()] for k in shown],
            "round_trip": read_back == output.strip(),
        }
        if groups is not None:
            owner = torch.tensor(groups[b][:len(source_ids)])
            sums = torch.zeros(len(shown), int(owner.max()) + 1, dtype=torch.float64)
            sums.index_add_(1, owner, rows[shown].double())
            result["by_group"] = [[rounded(w) for w in row] for row in sums.tolist()]
        results.append(result)
    return results
