"""Run a trained model on cases: grammar-constrained chains, then candidate ranking by the model's score.

Three-stage model:
1. ``need`` and ``category`` are decoded with beam search under a ``workbench.lm.Grammar``: the need
   is one of the known phrases, the category one of that need's categories, so every output parses
   and every id exists. ``beams`` paths are kept.
2. For each path, one forward pass of ``prompt + path + "{ services : ["`` gives the path's
   log-probability and the model's distribution over the first service slot; every candidate of the
   path's category (the user's own merchants there + the city's popular ones) is scored by it. With
   ``candidates`` the path is followed by its category's candidate block (the tool's text, left out of
   the path's log-probability) before ``{ services : [``, and the block's candidates are the ones scored,
   each by its slot word.
3. Services are ranked over all kept paths, by their best path's log P(path) + log P(service | path)
   (``rank="best"``), or by the chain's marginal over the kept paths, log Σ_path P(path)·P(service |
   path) (``rank="marginal"``: a service that several likely paths lead to rises, so one wrong category
   no longer dooms the service stage). The chain shown is the best single path of the top service.
   With ``beams=1`` both are the greedy chain with ranked services.

Flat model: the same scoring with ``{ services : [`` right after the prompt, over the flat candidates
(all of the user's merchants + the city's popular ones).

Candidates that are one token each (the tiny model's word tokenizer) are scored from a single forward
pass; multi-token ids (``category/rank`` venues of real data, the sub-word tokenizer, a real
checkpoint's BPE tokenizer) take one more pass per group of candidates that share all but their last
token. With the sub-word tokenizer every id ends in an end-of-word piece, so no id's tokens are a
prefix of another's and a candidate's score includes "the id ends here".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from workbench.lm import Grammar, generate, sequence_logprobs
from workbench.needs.prompts import (SLOT_WORDS, Popularity, candidate_block, candidates, case_pool, chain_text,
                                     own_merchants)
from workbench.needs.data import NeedsData
from workbench.progress import Progress, scaled

SERVICES_OPEN = "{ services : ["
RANKS = ("best", "marginal")
"""How ``predict_chains`` ranks services over the kept paths (module doc; the ``chain_rank`` setting)."""
TOP_N = 10


def word_ids(tok, word: str) -> tuple[int, ...]:
    """Token ids of one word as it appears after a space."""
    return tuple(tok(" " + word, add_special_tokens=False)["input_ids"])


def words_ids(tok, words) -> dict[str, tuple[int, ...]]:
    """``word_ids`` of each distinct word in ``words``, in one tokenizer call: a call costs far more
    than the tokenizing, and a test set's candidate lists name the same merchants thousands of times."""
    distinct = list(dict.fromkeys(words))
    encoded = tok([" " + w for w in distinct], add_special_tokens=False)["input_ids"] if distinct else []
    return {w: tuple(ids) for w, ids in zip(distinct, encoded)}


def chain_grammar(tok, data: NeedsData) -> Grammar:
    """``{ need : <phrase> } { category : <category of that need> } { services : [`` then end."""
    phrase_ids = {word_ids(tok, p): n for p, n in data.phrase_need.items()}
    cats = {n: [word_ids(tok, c) for c in cs] for n, cs in data.need_categories.items()}
    lit = lambda text: tok(" " + text, add_special_tokens=False)["input_ids"]  # noqa: E731
    grammar = Grammar(tok.eos_token_id)
    grammar.literal(lit("{ need :")).choice(list(phrase_ids))
    grammar.literal(lit("} { category :")).choice(lambda chosen: cats[phrase_ids[chosen[0]]])
    grammar.literal(lit("} " + SERVICES_OPEN))
    return grammar


@torch.no_grad()
def score_paths(model, tok, texts: Sequence[str], path_starts: Sequence[int], batch_size: int = 64,
                skips: Sequence[tuple[int, int]] | None = None):
    """For each text: the summed log-prob of its tokens from word ``path_starts[i]`` on, and the
    log-distribution over the next token after the text (a [len(texts), vocab] tensor). ``skips[i]``,
    a (first, end) word range, is left out of the sum: a candidate block is the tool's text, not the
    model's choice."""
    device = next(model.parameters()).device
    sums, lasts = [], []
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start:start + batch_size])
        enc = tok(chunk, add_special_tokens=False)["input_ids"]  # one call per batch, the same ids as one per text
        heads = [" ".join(t.split()[:s]) for t, s in zip(chunk, path_starts[start:start + batch_size])]
        offsets = [len(ids) for ids in tok(heads, add_special_tokens=False)["input_ids"]]
        width = max(map(len, enc))
        ids = torch.full((len(enc), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, e in enumerate(enc):  # right padding keeps positions as in an unpadded pass
            ids[i, :len(e)] = torch.tensor(e)
            mask[i, :len(e)] = 1
        logp = torch.log_softmax(model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float(), -1).cpu()
        cuts = [tuple(len(tok(" ".join(t.split()[:w]), add_special_tokens=False)["input_ids"]) for w in skip)
                for t, skip in zip(chunk, skips[start:start + batch_size])] if skips else None
        for i, e in enumerate(enc):
            n = len(e)
            spans = [(offsets[i], n)] if cuts is None else [(offsets[i], cuts[i][0]), (cuts[i][1], n)]
            token_lp = sum(logp[i, a - 1:b - 1].gather(-1, ids[i, a:b].unsqueeze(-1)).sum() for a, b in spans)
            sums.append(float(token_lp))
            lasts.append(logp[i, n - 1].clone())  # a copy: a view would keep the whole [batch, length, vocab] alive
    return np.array(sums), torch.stack(lasts) if lasts else torch.empty(0)


HEAD_ONLY_ON_LAST_HIDDEN = ("llama", "qwen2")
"""Model families whose logits are just the output layer on the decoder's last hidden state (the tiny
models), so ``shared_head_scores`` may apply the output layer to a few positions only."""


@torch.no_grad()
def shared_head_scores(model, tok, prefixes: Sequence[str], heads: Sequence[Sequence[int]],
                       lasts: Sequence[Sequence[int]], batch_size: int = 64) -> list[np.ndarray]:
    """For each group ``(prefix, head, lasts)``: ``log P(head | prefix) + log P(last | prefix + head)``
    for every token in ``lasts`` — the scores of candidates whose tokens are ``head + [last]``. One
    forward pass per group however many candidates share the head (``food_a3/17``, ``food_a3/2``: one
    pass for the category, then the ranks read off one distribution). Only the positions that predict
    the head and the last token go through the output layer: with tens of thousands of groups a full
    [batch, length, vocab] log-softmax per batch costs most of the time and gigabytes of memory."""
    device = next(model.parameters()).device
    decoder, out_layer = model.get_decoder(), model.get_output_embeddings()
    prefix_ids: dict[str, list[int]] = {}
    scores: list[np.ndarray] = []
    for start in range(0, len(prefixes), batch_size):
        seqs, spans = [], []
        for p, h in zip(prefixes[start:start + batch_size], heads[start:start + batch_size]):
            if p not in prefix_ids:
                prefix_ids[p] = tok(p, add_special_tokens=False)["input_ids"]
            seqs.append(prefix_ids[p] + list(h))
            spans.append((len(prefix_ids[p]), len(h)))
        ids = torch.full((len(seqs), max(map(len, seqs))), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, seq in enumerate(seqs):  # right padding keeps positions as in an unpadded pass
            ids[i, :len(seq)] = torch.tensor(seq)
            mask[i, :len(seq)] = 1
        hidden = decoder(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
        # per group: the positions before each head token, then the last position (predicts `last`)
        rows = torch.tensor([i for i, (_, k) in enumerate(spans) for _ in range(k + 1)])
        cols = torch.tensor([n - 1 + j for n, k in spans for j in range(k + 1)])
        logp = torch.log_softmax(out_layer(hidden[rows.to(device), cols.to(device)]).float(), -1).cpu()
        targets = ids[rows, torch.clamp(cols + 1, max=ids.shape[1] - 1)]  # the head tokens (unused at the last)
        pos = 0
        for (_, k), group_lasts in zip(spans, lasts[start:start + batch_size]):
            head_lp = logp[pos:pos + k].gather(-1, targets[pos:pos + k].unsqueeze(-1)).sum()
            scores.append((head_lp + logp[pos + k, list(group_lasts)]).numpy())
            pos += k + 1
    return scores


def rank_candidates(model, tok, prefixes: list[str], cand_lists: list[list[str]], next_logp: torch.Tensor) -> list[np.ndarray]:
    """Log-prob of each candidate in the first service slot after each prefix.

    One-token candidates read ``next_logp`` (the prefix's next-token distribution). Multi-token ones
    are grouped by all but their last token and scored by ``shared_head_scores``; for model families
    whose logits are not just the output layer on the last hidden state, by ``sequence_logprobs``."""
    out = [np.zeros(len(cands)) for cands in cand_lists]
    known = words_ids(tok, (m for cands in cand_lists for m in cands))
    ids = [[known[m] for m in cands] for cands in cand_lists]
    groups: dict[tuple[int, tuple[int, ...]], list[tuple[int, int]]] = {}  # (case, head) -> [(slot, last)]
    for i, case_ids in enumerate(ids):
        for j, x in enumerate(case_ids):
            if len(x) == 1:
                out[i][j] = float(next_logp[i, x[0]])
            else:
                groups.setdefault((i, x[:-1]), []).append((j, x[-1]))
    if not groups:
        return out
    if getattr(model.config, "model_type", "") in HEAD_ONLY_ON_LAST_HIDDEN:
        keys = list(groups)
        scores = shared_head_scores(model, tok, [prefixes[i] for i, _ in keys], [h for _, h in keys],
                                    [[last for _, last in groups[k]] for k in keys])
        for (i, head), group_scores in zip(keys, scores):
            for (j, _), score in zip(groups[(i, head)], group_scores):
                out[i][j] = float(score)
    else:
        pairs = [(i, j) for (i, _), members in groups.items() for j, _ in members]
        scores = sequence_logprobs(model, tok, [prefixes[i] for i, _ in pairs],
                                   [cand_lists[i][j] for i, j in pairs]).numpy()
        for (i, j), score in zip(pairs, scores):
            out[i][j] = float(score)
    return out


def predict_chains(model, tok, data: NeedsData, cases: pd.DataFrame, popularity: Popularity, n_popular: int,
                   beams: int = 2, batch_size: int = 64, progress: Progress | None = None,
                   rank: str = "best", block_size: int = 0) -> pd.DataFrame:
    """Three-stage predictions for ``cases`` (made with ``keep_pool=True``): one row per case with
    ``need_text_pred``, ``need_pred``, ``category_pred``, ``services`` (ranked ids) and ``completion``.
    ``rank``: ``best`` path or ``marginal`` over the ``beams`` kept paths (module doc). ``block_size`` >
    0: each path is followed by its category's candidate block of that many candidates
    (``prompts.candidate_block``), whose candidates are the ones ranked (by their slot words); the
    block's tokens are not part of the path's log-prob."""
    if rank not in RANKS:
        raise ValueError(f"rank={rank!r} is not one of {RANKS}")
    phrase_need = data.phrase_need
    grammar = chain_grammar(tok, data)
    prompts = cases["prompt"].tolist()
    gen = generate(model, tok, prompts, max_new_tokens=40, constraint=grammar, num_beams=beams,
                   num_return_sequences=beams, batch_size=max(1, batch_size // beams),
                   progress=scaled(progress, 0.0, 0.6))
    texts, starts, meta, skips, cand_lists = [], [], [], [], []
    for i, prompt in enumerate(prompts):
        seen = set()
        case = cases.iloc[i]
        for b in range(beams):
            words = gen.texts[i * beams + b].split()
            need_text, category = words[3], words[8]
            if (need_text, category) in seen:
                continue
            seen.add((need_text, category))
            starts.append(len(prompt.split()))
            meta.append((i, need_text, category))
            if block_size:  # "{ need : . } { category : . }", the tool's block, then "{ services : ["
                given, block = candidate_block(case_pool(case), case, category, popularity, n_popular, block_size)
                path = " ".join(words[:10])
                texts.append(" ".join(p for p in (prompt, path, block, SERVICES_OPEN) if p))
                skips.append((starts[-1] + 10, starts[-1] + 10 + len(block.split())))
                cand_lists.append(given)
            else:
                texts.append(f"{prompt} {' '.join(words)}")
                own = own_merchants(np.asarray(case["pool_categories"]), np.asarray(case["pool_merchants"]), category)
                cand_lists.append(candidates(own, case["city"], category, popularity, n_popular))
    path_lp, next_logp = score_paths(model, tok, texts, starts, batch_size, skips if block_size else None)
    if progress:
        progress("ranking candidates", 0.9)
    # with the block the model names a candidate by its slot word (``prompts.candidate_block``)
    cand_words = [list(SLOT_WORDS[:len(c)]) for c in cand_lists] if block_size else cand_lists
    cand_scores = rank_candidates(model, tok, texts, cand_words, next_logp)
    per_case: dict[int, list[tuple[float, str, str, str]]] = {}
    for (i, need_text, category), lp, cands, scores in zip(meta, path_lp, cand_lists, cand_scores):
        for m, s in zip(cands, scores):
            per_case.setdefault(i, []).append((float(lp + s), m, need_text, category))
    rows = []
    for i in range(len(cases)):
        scored = sorted(per_case.get(i, []), key=lambda x: -x[0])
        ranked = list(dict.fromkeys(m for _, m, _, _ in scored))[:TOP_N]
        if rank == "marginal" and scored:
            ranked = marginal_ranking(scored)[:TOP_N]
            scored = sorted((x for x in scored if x[1] == ranked[0]), key=lambda x: -x[0])  # the top service's best path
        if scored:
            _, _, need_text, category = scored[0]
        else:  # no candidate at all: keep the best path
            need_text, category = next((n, c) for j, n, c in meta if j == i)
        rows.append({"need_text_pred": need_text, "need_pred": phrase_need[need_text], "category_pred": category,
                     "services": ranked, "completion": chain_text(need_text, category, ranked[:3])})
    return pd.DataFrame(rows, index=cases.index)


def marginal_ranking(scored: list[tuple[float, str, str, str]]) -> list[str]:
    """Services by log Σ over paths of exp(path log-prob + service log-prob); ties keep the order of
    each service's best path.

    >>> import math
    >>> marginal_ranking([(math.log(.4), "m1", "lunch", "ff"), (math.log(.3), "m2", "lunch", "ns"),
    ...                   (math.log(.3), "m2", "dinner", "bbq")])
    ['m2', 'm1']
    """
    best_first = sorted(scored, key=lambda x: -x[0])
    order = {m: k for k, m in enumerate(dict.fromkeys(m for _, m, _, _ in best_first))}
    totals: dict[str, list[float]] = {}
    for score, m, _, _ in best_first:
        totals.setdefault(m, []).append(score)
    mass = {m: float(np.logaddexp.reduce(s)) for m, s in totals.items()}
    return sorted(order, key=lambda m: (-mass[m], order[m]))


def predict_flat(model, tok, cases: pd.DataFrame, batch_size: int = 64, progress: Progress | None = None) -> pd.DataFrame:
    """Flat predictions: services ranked straight from the prompt (no need, no category)."""
    texts = [f"{p} {SERVICES_OPEN}" for p in cases["prompt"]]
    _, next_logp = score_paths(model, tok, texts, [len(p.split()) for p in cases["prompt"]], batch_size)
    cand_lists = [list(c) for c in cases["flat_candidates"]]
    scores = rank_candidates(model, tok, texts, cand_lists, next_logp)
    rows = []
    for cands, s in zip(cand_lists, scores):
        ranked = [cands[j] for j in np.argsort(-s, kind="stable")][:TOP_N]
        rows.append({"need_text_pred": None, "need_pred": None, "category_pred": None, "services": ranked,
                     "completion": chain_text(services=ranked[:3])})
    if progress:
        progress("flat model ranked", 1.0)
    return pd.DataFrame(rows, index=cases.index)
