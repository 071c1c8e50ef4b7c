"""The sentiment classifier a session fine-tunes: its own copy of all-MiniLM-L6-v2, mean pooling, a linear head.

Why this shape:
- A private copy. The app's MiniLM (`models.get`) is shared with the tokens, positions and attention pages,
  so training must never touch it. `copy.deepcopy` cannot copy it (the loader's forward gate holds a lock),
  so the copy is a new BertModel of the same config with the shared model's weights loaded into it.
- Mean pooling, as all-MiniLM-L6-v2 was trained (its sentence embedding is the mean of its token vectors),
  rather than AutoModelForSequenceClassification's [CLS] pooler, which this checkpoint never trained.
- Freezing k layers freezes everything below layer k: the embeddings and layers 0..k-1 (0: the whole model
  trains; all: only the head, a linear probe). A frozen layer's output for a review never changes, so it is
  computed once for every review before the first epoch and reused: freezing saves its backward pass and
  every later forward pass too.
- The encoder always runs in eval mode (no dropout inside it): with it, training would draw from torch's
  global random generator, which concurrent requests share, and a seed would no longer fix the result.
  Dropout is applied to the pooled vector before the head instead, from the training's own generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

HEAD_DROPOUT = 0.1
GRADIENT_CLIP = 1.0  # chapter 6: clip the gradient norm so one bad batch cannot blow the weights up
WEIGHT_DECAY = 0.01
EVAL_BATCH = 64


@dataclass
class Features:
    """A split as the trainable part of the model sees it: the frozen part's output, computed once."""
    hidden: object  # [count, length, hidden] after the frozen layers (or the token ids when nothing is frozen)
    mask: object  # [count, length]
    labels: object  # [count]

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class SentimentClassifier:
    """Opaque to the UI: the tab keeps it in the session's gr.State and hands it back to classify_sentiment."""
    encoder: object  # a BertModel, this session's own copy
    head: object  # torch.nn.Linear(hidden, 2)
    tokenizer: object
    frozen: int  # layers frozen from the bottom (embeddings too when >= 1)
    facts: dict = field(default_factory=dict)  # what the tab shows about it: settings, accuracy, best epoch

    @property
    def layers(self) -> int:
        return int(self.encoder.config.num_hidden_layers)

    def trainable(self) -> list:
        """The parameters the optimizer updates: all but the frozen part and the pooler (never used)."""
        pooler = getattr(self.encoder, "pooler", None)
        below = [self.encoder.embeddings, *self.encoder.encoder.layer[:self.frozen]] if self.frozen else []
        skip = {id(p) for module in [*below, *([pooler] if pooler is not None else [])] for p in module.parameters()}
        return [p for p in self.encoder.parameters() if id(p) not in skip] + list(self.head.parameters())

    def freeze(self) -> None:
        keep = {id(p) for p in self.trainable()}
        for p in self.encoder.parameters():
            p.requires_grad_(id(p) in keep)

    def run_layers(self, hidden, mask, start: int, stop: int):
        """Encoder layers start..stop-1 on hidden states, with the attention mask BertModel itself builds."""
        from transformers.masking_utils import create_bidirectional_mask

        attention = create_bidirectional_mask(config=self.encoder.config, inputs_embeds=hidden, attention_mask=mask)
        for layer in self.encoder.encoder.layer[start:stop]:
            out = layer(hidden, attention)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def lower(self, ids, mask):
        """The frozen part: embeddings and layers below `frozen` (what `features` caches)."""
        return self.run_layers(self.encoder.embeddings(input_ids=ids), mask, 0, self.frozen)

    def logits(self, lower_hidden, mask, dropout=None):
        """The trainable part: the layers above the frozen ones, then the head."""
        return self.head_logits(self.run_layers(lower_hidden, mask, self.frozen, self.layers), mask, dropout)

    def head_logits(self, hidden, mask, dropout=None):
        """Mean pooling over the real tokens (not the padding), dropout when training, the linear head."""
        import torch

        weights = mask[..., None].to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        if dropout is not None:  # a torch.Generator: the training's own random numbers
            keep = torch.rand(pooled.shape, generator=dropout, device=pooled.device) >= HEAD_DROPOUT
            pooled = pooled * keep / (1.0 - HEAD_DROPOUT)
        return self.head(pooled)

    def features(self, ids, mask, labels) -> Features:
        """The frozen part's output for a whole split, once (nothing frozen: the ids, embedded each step)."""
        import torch

        if not self.frozen:
            return Features(ids, mask, labels)
        with torch.inference_mode():
            hidden = torch.cat([self.lower(ids[i:i + EVAL_BATCH], mask[i:i + EVAL_BATCH])
                                for i in range(0, ids.shape[0], EVAL_BATCH)])
        return Features(hidden.clone(), mask, labels)  # clone: a normal tensor, usable in autograd

    def forward_features(self, features: Features, index, dropout=None):
        hidden, mask = features.hidden[index], features.mask[index]
        if not self.frozen:
            hidden = self.encoder.embeddings(input_ids=hidden)
        return self.logits(hidden, mask, dropout)

    def probabilities(self, ids, mask) -> list[list[float]]:
        """Class probabilities through the model's own forward (the layer-by-layer path gives the same
        numbers, a test checks it): for a shared encoder this also goes through the loader's forward gate."""
        import torch

        with torch.inference_mode():
            hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            return torch.softmax(self.head_logits(hidden, mask), dim=-1).tolist()

    def checkpoint(self) -> list:
        """The trained weights' values now (the frozen ones never change, so they need no copy)."""
        return [p.detach().clone() for p in self.trainable()]

    def restore(self, saved: list) -> None:
        import torch

        with torch.no_grad():
            for p, value in zip(self.trainable(), saved):
                p.copy_(value)


def build(base, tokenizer, frozen: int, generator) -> SentimentClassifier:
    """A new classifier over a private copy of `base` (a BertModel), its head drawn from `generator`."""
    import copy

    config = copy.deepcopy(base.config)
    encoder = type(base)(config)  # freshly initialised, then overwritten with the shared model's weights
    encoder.load_state_dict(base.state_dict())
    try:
        encoder.set_attn_implementation("sdpa")  # another page may have switched the shared one to eager
    except (ValueError, ImportError, AttributeError):
        pass
    encoder.to(next(base.parameters()).device).eval()
    classifier = SentimentClassifier(encoder, new_head(config, generator, encoder), tokenizer,
                                     min(frozen, config.num_hidden_layers))
    classifier.freeze()
    return classifier


def untrained(base, tokenizer, generator) -> SentimentClassifier:
    """The pre-trained model itself (shared, read only: inference only) with an untrained head: the
    baseline a training starts from (the same head as a training with the same seed)."""
    return SentimentClassifier(base, new_head(base.config, generator, base), tokenizer, base.config.num_hidden_layers)


def new_head(config, generator, beside):
    """Linear(hidden, 2): weights normal with BERT's own initializer_range (0.02), bias 0."""
    import torch

    head = torch.nn.Linear(config.hidden_size, 2)
    with torch.no_grad():
        head.weight.copy_(torch.randn(head.weight.shape, generator=generator) * config.initializer_range)
        head.bias.zero_()
    return head.to(next(beside.parameters()).device)


def evaluate(classifier: SentimentClassifier, features: Features) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) over a split, without dropout."""
    import torch

    losses, right = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(features), EVAL_BATCH):
            index = slice(start, start + EVAL_BATCH)
            logits = classifier.forward_features(features, index)
            labels = features.labels[index]
            losses += float(torch.nn.functional.cross_entropy(logits, labels, reduction="sum"))
            right += int((logits.argmax(-1) == labels).sum())
    return losses / len(features), right / len(features)


def train_epoch(classifier: SentimentClassifier, features: Features, optimizer, batch_size: int, generator,
                should_stop: Callable[[], bool]) -> bool:
    """One pass over the training reviews in a seeded random order; False if stopped before its end."""
    import torch

    order = torch.randperm(len(features), generator=generator)
    for start in range(0, len(features), batch_size):
        if should_stop():
            return False
        index = order[start:start + batch_size]
        logits = classifier.forward_features(features, index, dropout=generator)
        loss = torch.nn.functional.cross_entropy(logits, features.labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(classifier.trainable(), GRADIENT_CLIP)
        optimizer.step()
    return True


def optimizer(classifier: SentimentClassifier, learning_rate: float):
    import torch

    return torch.optim.AdamW(classifier.trainable(), lr=learning_rate, weight_decay=WEIGHT_DECAY)
