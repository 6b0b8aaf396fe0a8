"""The LM kit's speed on this machine: SFT steps/s, generation throughput, constraint overhead."""

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
    return rows
