"""The LM kit's speed on this machine: SFT steps/s, generation throughput, constraint overhead, and
the LM head on a large vocabulary (Foursquare's 11k venue words): TRL's fused head vs ours."""

from __future__ import annotations

import random
import time

TITLE = "LM kit: training and generation speed"


def _task(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        seq = [f"t{rng.randrange(50)}" for _ in range(rng.randint(8, 24))]
        out.append(("copy " + " ".join(seq) + " =", " ".join(seq)))
    return out


def run() -> list[dict]:
    from workbench.lm import SFTSettings, TinyLMConfig, TokenTrie, build_word_tokenizer, count_parameters, generate, make_model, train_sft

    pairs = _task(3000, 0)
    tok = build_word_tokenizer([p + " " + c for p, c in pairs])
    rows = []
    for name, cfg in [("pico (64d x 2L)", TinyLMConfig(hidden=64, layers=2, heads=4, intermediate=256)),
                      ("tiny (128d x 4L)", TinyLMConfig())]:
        model = make_model(cfg, tok, seed=0)
        start = time.perf_counter()
        train_sft(model, tok, pairs, SFTSettings(steps=100, batch_size=32, device="cpu"))
        sft_s = time.perf_counter() - start
        prompts = [p for p, _ in pairs[:64]]
        start = time.perf_counter()
        free = generate(model, tok, prompts, max_new_tokens=32)
        gen_s = time.perf_counter() - start
        trie = TokenTrie([tok(c, add_special_tokens=False)["input_ids"] for _, c in pairs[:500]], tok.eos_token_id)
        start = time.perf_counter()
        constrained = generate(model, tok, prompts, max_new_tokens=32, constraint=trie)
        con_s = time.perf_counter() - start
        rows.append({
            "model": name,
            "params": count_parameters(model),
            "SFT steps/s (batch 32)": round(100 / sft_s, 2),
            "greedy tokens/s (64 prompts)": round(sum(free.n_tokens) / gen_s, 1),
            "constrained tokens/s (trie of 500)": round(sum(constrained.n_tokens) / con_s, 1),
        })
    rows += _large_vocabulary()
    return rows


def _large_vocabulary(words: int = 11_000, steps: int = 20) -> list[dict]:
    """SFT steps on ~50-token prompts + 8-token completions over an ``words``-word vocabulary, the
    loss on the completion only (TRL's default) or on every token (the needs method's ``prompt_loss``):
    the compact head projects only the supervised positions, TRL's head on the CPU all of them; the
    batch softmax projects the prompt's positions only onto the batch's distinct prompt targets —
    ~1,700 columns here, where the words are drawn uniformly, ~150 in a Foursquare batch, whose venues
    repeat — and the completion's onto the whole vocabulary. Last, GRPO steps (8 prompts × 8 sampled
    completions) with TRL's fused head vs ours, which scores only the completion's positions."""
    from workbench.lm import SFTSettings, TinyLMConfig, build_word_tokenizer, make_model, train_sft

    rng = random.Random(1)
    vocab = [f"w{i}" for i in range(words)]
    pairs = [(" ".join(rng.choices(vocab, k=50)), " ".join(rng.choices(vocab, k=8))) for _ in range(640)]
    tok = build_word_tokenizer([], extra_tokens=vocab)
    rows = []
    for completion_only in (True, False):
        for compact in (True, False):
            model = make_model(TinyLMConfig(), tok, seed=0)
            start = time.perf_counter()
            curve = train_sft(model, tok, pairs, SFTSettings(steps=steps, batch_size=32, device="cpu", log_every=steps,
                                                             completion_only_loss=completion_only, compact_head=compact))
            rows.append({"model": f"tiny, {words:,}-word vocabulary, loss on "
                                  f"{'the completion' if completion_only else 'every token'}",
                         "LM head": "compact (ours)" if compact else "TRL fused", "SFT s/step (batch 32)":
                         round((time.perf_counter() - start) / steps, 3), "final loss": round(curve[-1]["loss"], 4)})
    model = make_model(TinyLMConfig(), tok, seed=0)
    start = time.perf_counter()
    train_sft(model, tok, pairs, SFTSettings(steps=steps, batch_size=32, device="cpu", log_every=steps,
                                             completion_only_loss=False, batch_softmax=True))
    rows.append({"model": f"tiny, {words:,}-word vocabulary, loss on every token",
                 "LM head": "batch softmax on the prompt (ours)",
                 "SFT s/step (batch 32)": round((time.perf_counter() - start) / steps, 3),
                 "final loss": None})  # a loss over other columns: not comparable with the rows above
    return rows + _grpo_large_vocabulary(pairs, tok, steps=max(steps // 2, 2))


def _grpo_large_vocabulary(pairs, tok, steps: int) -> list[dict]:
    import pandas as pd

    from workbench.lm import TinyLMConfig, make_model
    from workbench.needs.training import GRPOSettings, train_grpo

    cases = pd.DataFrame({"prompt": [p for p, _ in pairs], "completion": [c for _, c in pairs],
                          "need_text": "", "category": "", "merchant": ""})
    rows = []
    for compact in (True, False):
        model = make_model(TinyLMConfig(), tok, seed=0)
        start = time.perf_counter()
        train_grpo(model, tok, cases, [lambda completions, **kw: [float(len(c) % 3) for c in completions]],
                   GRPOSettings(steps=steps, prompts_per_step=8, generations=8, max_completion_length=8,
                                compact_head=compact, device="cpu"))
        rows.append({"model": f"tiny, {len(tok):,}-word vocabulary, GRPO (8 prompts × 8 completions)",
                     "LM head": "compact (ours)" if compact else "TRL fused",
                     "GRPO s/step": round((time.perf_counter() - start) / steps, 3)})
    return rows
