"""The course's Transformer from scratch (chapter 11), written out in full and correctly.

The course names its pieces PositionalEncoding, AttentionLayer and TransformerEncoder; the same names
are used here, with what its short listing leaves out put back (chapters 4 and 5):
- AttentionLayer has several heads, each attending in its own slice of the vector, scaled by the
  head's size, sqrt(d_k); a mask hides the padding and, in the decoder, the later positions;
- every sub-layer sits in a residual connection followed by a layer norm, x = LayerNorm(x + sublayer(x)),
  as in "Attention Is All You Need" (each layer has its own attention: the course's listing shares one);
- each layer has a feed-forward network after its attention;
- the decoder's layers attend to themselves under a causal mask (position t sees positions 0..t only),
  then read the encoder's output through cross-attention.
There is no dropout: the toy task has endless fresh data, and every run with one seed is then the same.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

PAD, BOS, EOS = 0, 1, 2  # token ids every vocabulary of this page starts with


class PositionalEncoding(nn.Module):
    """Chapter 11's sinusoidal positions: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...)."""

    def __init__(self, max_len, embed_size):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, embed_size, 2) * -(math.log(10000.0) / embed_size))
        pe = torch.zeros(max_len, embed_size)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)  # fixed, not learned: saved with the model, never trained

    def forward(self, x):
        return x + self.pe[: x.size(1)]


class AttentionLayer(nn.Module):
    """Multi-head attention: each head computes softmax(Q K^T / sqrt(d_k)) V in its own d_k-wide slice."""

    def __init__(self, embed_size, num_heads):
        super().__init__()
        if embed_size % num_heads:
            raise ValueError(f"embed_size {embed_size} is not a multiple of num_heads {num_heads}")
        self.num_heads, self.head_size = num_heads, embed_size // num_heads
        self.query = nn.Linear(embed_size, embed_size)
        self.key = nn.Linear(embed_size, embed_size)
        self.value = nn.Linear(embed_size, embed_size)
        self.out = nn.Linear(embed_size, embed_size)  # mixes the heads' results back together

    def split(self, x):
        """(batch, length, embed) -> (batch, heads, length, head_size)."""
        return x.view(x.size(0), -1, self.num_heads, self.head_size).transpose(1, 2)

    def forward(self, query, key, value, mask=None):
        """`mask` is True where a query may look at a key. Returns the output and the weights
        (batch, heads, query length, key length); each row of weights sums to 1."""
        q, k, v = self.split(self.query(query)), self.split(self.key(key)), self.split(self.value(value))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_size)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))  # exp(-inf) = 0: no weight at all
        weights = scores.softmax(dim=-1)
        mixed = (weights @ v).transpose(1, 2).reshape(query.size(0), -1, self.num_heads * self.head_size)
        return self.out(mixed), weights


class FeedForward(nn.Module):
    """The same two-layer network applied to every position on its own."""

    def __init__(self, embed_size, hidden_size):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(embed_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, embed_size))

    def forward(self, x):
        return self.net(x)


class EncoderLayer(nn.Module):
    def __init__(self, embed_size, num_heads, hidden_size):
        super().__init__()
        self.attention = AttentionLayer(embed_size, num_heads)
        self.feed_forward = FeedForward(embed_size, hidden_size)
        self.norm1, self.norm2 = nn.LayerNorm(embed_size), nn.LayerNorm(embed_size)

    def forward(self, x, mask):
        attended, _ = self.attention(x, x, x, mask)  # self-attention: every word looks at every word
        x = self.norm1(x + attended)  # residual connection, then layer norm
        return self.norm2(x + self.feed_forward(x))


class DecoderLayer(nn.Module):
    def __init__(self, embed_size, num_heads, hidden_size):
        super().__init__()
        self.self_attention = AttentionLayer(embed_size, num_heads)
        self.cross_attention = AttentionLayer(embed_size, num_heads)
        self.feed_forward = FeedForward(embed_size, hidden_size)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(embed_size) for _ in range(3))

    def forward(self, y, memory, causal_mask, memory_mask):
        attended, _ = self.self_attention(y, y, y, causal_mask)  # masked: no peeking at later outputs
        y = self.norm1(y + attended)
        read, weights = self.cross_attention(y, memory, memory, memory_mask)  # queries here, keys from the encoder
        y = self.norm2(y + read)
        return self.norm3(y + self.feed_forward(y)), weights


class TransformerEncoder(nn.Module):
    def __init__(self, vocab_size, embed_size, num_layers, num_heads, hidden_size, max_len):
        super().__init__()
        self.scale = math.sqrt(embed_size)  # embeddings scaled up so the positions do not drown them
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD)
        self.positions = PositionalEncoding(max_len, embed_size)
        self.layers = nn.ModuleList(EncoderLayer(embed_size, num_heads, hidden_size) for _ in range(num_layers))

    def forward(self, src, mask):
        x = self.positions(self.embedding(src) * self.scale)
        for layer in self.layers:
            x = layer(x, mask)
        return x


class TransformerDecoder(nn.Module):
    def __init__(self, vocab_size, embed_size, num_layers, num_heads, hidden_size, max_len):
        super().__init__()
        self.scale = math.sqrt(embed_size)
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD)
        self.positions = PositionalEncoding(max_len, embed_size)
        self.layers = nn.ModuleList(DecoderLayer(embed_size, num_heads, hidden_size) for _ in range(num_layers))
        self.to_vocab = nn.Linear(embed_size, vocab_size)  # a score (logit) for every word at every position

    def forward(self, tgt, memory, memory_mask):
        """Returns the logits and each layer's cross-attention weights (batch, heads, tgt len, src len)."""
        y = self.positions(self.embedding(tgt) * self.scale)
        causal = causal_mask(tgt.size(1)) & (tgt != PAD)[:, None, None, :]
        cross = []
        for layer in self.layers:
            y, weights = layer(y, memory, causal, memory_mask)
            cross.append(weights)
        return self.to_vocab(y), cross


class Transformer(nn.Module):
    """Encoder-decoder: the encoder reads the source; the decoder writes the target one token at a time."""

    def __init__(self, vocab_size, embed_size=32, num_layers=2, num_heads=4, hidden_size=64, max_len=16):
        super().__init__()
        self.encoder = TransformerEncoder(vocab_size, embed_size, num_layers, num_heads, hidden_size, max_len)
        self.decoder = TransformerDecoder(vocab_size, embed_size, num_layers, num_heads, hidden_size, max_len)

    def forward(self, src, tgt):
        """Teacher forcing (chapter 6): `tgt` is BOS + the true target, so every position is trained at once."""
        memory_mask = padding_mask(src)
        return self.decoder(tgt, self.encoder(src, memory_mask), memory_mask)

    @torch.no_grad()
    def greedy(self, src, max_new):
        """Generate: feed back the likeliest token each step, until every row has written EOS."""
        memory_mask = padding_mask(src)
        memory = self.encoder(src, memory_mask)
        out = torch.full((src.size(0), 1), BOS, dtype=torch.long)
        done = torch.zeros(src.size(0), dtype=torch.bool)
        for _ in range(max_new):
            logits, _ = self.decoder(out, memory, memory_mask)
            token = logits[:, -1].argmax(-1).masked_fill(done, PAD)  # finished rows only pad
            out = torch.cat([out, token[:, None]], dim=1)
            done |= token == EOS
            if done.all():
                break
        return out[:, 1:]


def padding_mask(tokens):
    """(batch, 1, 1, length): True on real tokens, so no query attends to padding."""
    return (tokens != PAD)[:, None, None, :]


def causal_mask(length):
    """(length, length): True on and below the diagonal, so position t sees positions 0..t only."""
    return torch.ones(length, length, dtype=torch.bool).tril()


def initialize(model, generator):
    """Glorot-uniform weight matrices (as in the original code), zero biases, from `generator` only:
    a seed gives the same model without touching torch's global random state (other requests use it)."""
    for name, parameter in model.named_parameters():
        if parameter.dim() > 1:
            nn.init.xavier_uniform_(parameter, generator=generator)
        elif "norm" not in name:
            nn.init.zeros_(parameter)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Embedding):
                module.weight[PAD].zero_()  # padding is masked everywhere; its vector stays 0
    return model
