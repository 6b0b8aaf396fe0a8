"""TIGER and GLASS in one readable encoder-decoder (nanoGPT style).

Why hand-written and not a transformers T5: GLASS changes the decoder block itself — a second
cross-attention over the retrieved history bucket, mixed with the usual cross-attention by an
adaptive gate that must be exactly 0 at the step that predicts ``c1`` — and feeds one extra encoder
token (SID-Tier). Patching that into ``T5ForConditionalGeneration`` would hide the method inside
monkey-patches; here every part of the method is a few visible lines, and the attention itself is
torch's ``nn.MultiheadAttention``.

    encoder input   [SID-Tier token]  item_1 … item_W          (item = sum of its SID-token embeddings,
                                                                 or one position per SID token: ``flat``)
    decoder input   BOS c1 c2 c3                                 → predicts c1 c2 c3 d (teacher forcing)
    decoder block   self-attn → (1-g)·cross(short window) + g·cross(retrieved bucket) → feed-forward
                    g = σ(W[h; z_ret]) per dimension ("learned"), or 0.5 ("fixed"); g = 0 at step 0

One switch per part: ``ModelSpec(tier_dim=0, hard_search=False)`` is TIGER; ``tier_dim>0`` adds
SID-Tier; ``hard_search=True`` adds the retrieval cross-attention and gate; both = GLASS.
Retrieved items enter as the *frozen* (detached) sum of their SID-token embeddings through a
trainable projection, as in the paper. Output logits are tied to the token embeddings and restricted
to the current level's codes (a level-aware softmax).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ModelSpec:
    """Shape of one model; ``name`` is for tables."""

    sizes: tuple[int, ...]
    """Vocabulary size of each SID position (c1, c2, c3, collision digit)."""
    window: int = 20
    d_model: int = 64
    heads: int = 4
    enc_layers: int = 2
    dec_layers: int = 2
    d_ff: int = 256
    dropout: float = 0.1
    tier_dim: int = 0
    """K1·N of the SID-Tier vector; 0 = no SID-Tier token (TIGER)."""
    tier_tokens: str = "single"
    """``single``: the paper's one token, MLP(K1·N vector). ``per_code``: one token per first-level
    code a, MLP(tier histogram of a) + the embedding of code a — the decoder can then point at a code."""
    hard_search: bool = False
    """Dual cross-attention over the retrieved bucket with the gate."""
    gate: str = "learned"
    """``learned`` (σ(W[h; z_ret])) or ``fixed`` (0.5 — the paper's ablation)."""
    flat: bool = False
    """One encoder position per SID token (TIGER's layout) instead of one per item (4× shorter)."""
    name: str = "model"

    def to_dict(self) -> dict:
        return asdict(self)


class DecoderBlock(nn.Module):
    """Pre-norm block: causal self-attention, gated dual cross-attention, feed-forward."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        d, h, p = spec.d_model, spec.heads, spec.dropout
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn = nn.MultiheadAttention(d, h, dropout=p, batch_first=True)
        self.cross_short = nn.MultiheadAttention(d, h, dropout=p, batch_first=True)
        self.hard_search = spec.hard_search
        self.fixed_gate = spec.gate == "fixed"
        if spec.hard_search:
            self.cross_ret = nn.MultiheadAttention(d, h, dropout=p, batch_first=True)
            self.gate = nn.Linear(2 * d, d)
        self.ff = nn.Sequential(nn.Linear(d, spec.d_ff), nn.GELU(), nn.Linear(spec.d_ff, d))
        self.drop = nn.Dropout(p)

    def forward(self, x, causal, enc, enc_pad, ret=None, ret_pad=None):
        n = self.ln1(x)
        x = x + self.drop(self.self_attn(n, n, n, attn_mask=causal, need_weights=False)[0])
        n = self.ln2(x)
        z = self.cross_short(n, enc, enc, key_padding_mask=enc_pad, need_weights=False)[0]
        gate = None
        if self.hard_search and ret is not None:
            z_ret = self.cross_ret(n, ret, ret, key_padding_mask=ret_pad, need_weights=False)[0]
            if self.fixed_gate:
                gate = torch.full_like(z, 0.5)
            else:
                gate = torch.sigmoid(self.gate(torch.cat([n, z_ret], dim=-1)))
            step_mask = torch.ones_like(gate[..., :1])
            step_mask[:, 0] = 0.0  # the step that predicts c1 never sees the retrieval (it keys on c1)
            gate = gate * step_mask
            z = (1 - gate) * z + gate * z_ret
        x = x + self.drop(z)
        x = x + self.drop(self.ff(self.ln3(x)))
        return x, gate


class SeqRecModel(nn.Module):
    """TIGER (short window only), + SID-Tier, + semantic hard search, or GLASS (both)."""

    def __init__(self, spec: ModelSpec, item_codes: torch.Tensor):
        super().__init__()
        self.spec = spec
        d = spec.d_model
        sizes = torch.tensor(spec.sizes)
        self.levels = len(spec.sizes)
        self.register_buffer("offsets", torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)[:-1]]))
        self.vocab = int(sizes.sum()) + 2
        self.bos = self.vocab - 1
        # item id -> its SID token ids; the last row (id -1) is all padding.
        pad = self.vocab - 2
        tokens = item_codes.long() + self.offsets
        self.register_buffer("item_tokens", torch.cat([tokens, torch.full((1, self.levels), pad)]))
        level_of = torch.repeat_interleave(torch.arange(self.levels), sizes)
        self.register_buffer("level_of_token", torch.cat([level_of, torch.tensor([-1, -1])]))

        self.tok = nn.Embedding(self.vocab, d, padding_idx=pad)
        self.enc_pos = nn.Embedding(spec.window + 1, d)
        self.enc_level = nn.Embedding(self.levels, d)
        self.dec_pos = nn.Embedding(self.levels, d)
        if spec.tier_dim:
            self.k1 = spec.sizes[0]
            tier_in = spec.tier_dim // self.k1 if spec.tier_tokens == "per_code" else spec.tier_dim
            # The histogram's shares are small and similar (~1/N each); standardised with the training
            # cases' mean and spread (``fit_tier_scaling``) the MLP learns from them far sooner.
            self.register_buffer("tier_mean", torch.zeros(spec.tier_dim))
            self.register_buffer("tier_std", torch.ones(spec.tier_dim))
            self.tier_mlp = nn.Sequential(nn.Linear(tier_in, d), nn.ReLU(), nn.Linear(d, d))
        if spec.hard_search:
            self.ret_proj = nn.Linear(d, d)
            self.ret_null = nn.Parameter(torch.zeros(1, 1, d))  # always-visible slot: empty buckets stay finite
        layer = nn.TransformerEncoderLayer(d, spec.heads, spec.d_ff, spec.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, spec.enc_layers, enable_nested_tensor=False)
        self.enc_norm = nn.LayerNorm(d)
        self.decoder = nn.ModuleList([DecoderBlock(spec) for _ in range(spec.dec_layers)])
        self.dec_norm = nn.LayerNorm(d)
        self.apply(self._init)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def fit_tier_scaling(self, tier: torch.Tensor) -> None:
        """Standardise SID-Tier inputs with the mean and spread of the training cases' vectors."""
        if self.spec.tier_dim:
            self.tier_mean.copy_(tier.float().mean(0))
            self.tier_std.copy_(tier.float().std(0).clamp(min=1e-3))

    # ---- encoder ------------------------------------------------------------------------------
    def encode(self, window: torch.Tensor, tier: torch.Tensor | None = None):
        """window [B, W] item ids (-1 = pad), tier [B, K1·N] -> (memory [B, S, d], padding mask [B, S])."""
        b, w = window.shape
        # Leading columns that are padding in every row carry nothing (padding keys are masked), so they
        # are dropped; positions keep their place in the full window. Short real histories (Amazon
        # Beauty: 6.7 items on average in a 20-item window) then cost a third of the compute.
        filled = (window >= 0).any(0).nonzero()
        start = int(filled[0]) if len(filled) else w - 1
        window = window[:, start:]
        tokens = self.item_tokens[window]  # [B, W', L]; id -1 picks the padding row
        pos = self.enc_pos(torch.arange(start + 1, w + 1, device=window.device))
        w = w - start
        if self.spec.flat:
            x = self.tok(tokens) + pos[None, :, None] + self.enc_level.weight[None, None]
            x, pad = x.reshape(b, w * self.levels, -1), (window < 0).repeat_interleave(self.levels, dim=1)
        else:
            x, pad = self.tok(tokens).sum(2) + pos, window < 0
        if self.spec.tier_dim:
            tier = (tier - self.tier_mean) / self.tier_std
        if self.spec.tier_dim and self.spec.tier_tokens == "per_code":
            t = self.tier_mlp(tier.reshape(b, self.k1, -1)) + self.tok.weight[: self.k1] + self.enc_pos.weight[0]
            x, pad = torch.cat([t, x], 1), torch.cat([pad.new_zeros(b, self.k1), pad], 1)
        elif self.spec.tier_dim:
            t = self.tier_mlp(tier)[:, None] + self.enc_pos.weight[0]
            x, pad = torch.cat([t, x], 1), torch.cat([pad.new_zeros(b, 1), pad], 1)
        pad = pad.clone()
        pad[pad.all(1), -1] = False  # an empty window still gets one (padding) key to attend to
        return self.enc_norm(self.encoder(x, src_key_padding_mask=pad)), pad

    def retrieved(self, items: torch.Tensor):
        """items [B, M] retrieved item ids (-1 = pad) -> (memory [B, 1+M, d], padding mask)."""
        frozen = F.embedding(self.item_tokens[items], self.tok.weight.detach()).sum(2)
        mem = self.ret_proj(frozen)
        null = self.ret_null.expand(len(items), 1, -1)
        pad = torch.cat([items.new_zeros(len(items), 1, dtype=torch.bool), items < 0], 1)
        return torch.cat([null, mem], 1), pad

    # ---- decoder ------------------------------------------------------------------------------
    def decode(self, prefix: torch.Tensor, memory, ret=None):
        """prefix [B, T] SID tokens generated so far (BOS first) -> (logits [B, T, V], gates [B, T] or None).

        Logits at position t are for level t, restricted to that level's tokens.
        """
        enc, enc_pad = memory
        t = prefix.shape[1]
        x = self.tok(prefix) + self.dec_pos.weight[:t]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool, device=prefix.device), 1)
        ret_mem, ret_pad = ret if ret is not None else (None, None)
        gates = []
        for block in self.decoder:
            x, g = block(x, causal, enc, enc_pad, ret_mem, ret_pad)
            if g is not None:
                gates.append(g.mean(-1))
        logits = self.dec_norm(x) @ self.tok.weight.T
        level_ok = self.level_of_token[None, :] == torch.arange(t, device=prefix.device)[:, None]
        logits = logits.masked_fill(~level_ok, float("-inf"))
        return logits, (torch.stack(gates).mean(0) if gates else None)

    def forward(self, window, tier, target_codes, bucket=None):
        """Teacher-forced logits [B, L, V] and gates for a batch; ``bucket`` [B, M] = true-c1 bucket."""
        memory = self.encode(window, tier if self.spec.tier_dim else None)
        targets = target_codes + self.offsets
        bos = torch.full_like(targets[:, :1], self.bos)
        prefix = torch.cat([bos, targets[:, :-1]], 1)
        ret = self.retrieved(bucket) if self.spec.hard_search else None
        return self.decode(prefix, memory, ret)

    def loss(self, window, tier, target_codes, bucket=None) -> torch.Tensor:
        logits, _ = self.forward(window, tier, target_codes, bucket)
        targets = target_codes + self.offsets
        return F.cross_entropy(logits.reshape(-1, self.vocab), targets.reshape(-1))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
