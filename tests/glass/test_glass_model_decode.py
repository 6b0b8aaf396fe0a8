"""The model's gate, the trie, and constrained vs free beam search."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.glass.decode import SIDTrie, beam_search
from workbench.glass.model import ModelSpec, SeqRecModel
from workbench.glass.semantic_ids import add_collision_digit


def make_model(codes, **kw):
    torch.manual_seed(0)
    sizes = tuple(int(codes[:, level].max()) + 1 for level in range(codes.shape[1]))
    spec = ModelSpec(sizes=kw.pop("sizes", sizes), window=5, d_model=16, heads=2, enc_layers=1, dec_layers=2, d_ff=32,
                     **kw)
    return SeqRecModel(spec, torch.as_tensor(codes)).eval()


def batch(n_items, b=6, k1=3, m=4, tier_dim=0, seed=0):
    g = torch.Generator().manual_seed(seed)
    window = torch.randint(-1, n_items, (b, 5), generator=g)
    tier = torch.rand(b, max(tier_dim, 1), generator=g)
    buckets = torch.randint(-1, n_items, (b, k1, m), generator=g)
    return window, tier, buckets


CODES = add_collision_digit(np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0], [1, 1, 1], [2, 0, 0], [2, 0, 0]]))


def test_gate_is_zero_at_the_c1_step_and_c1_ignores_the_retrieval():
    model = make_model(CODES, hard_search=True, tier_dim=6)
    window, tier, buckets = batch(len(CODES), tier_dim=6)
    targets = torch.as_tensor(CODES[[0, 1, 2, 3, 4, 5]])
    logits_a, gate = model(window, tier, targets, buckets[:, 0])
    logits_b, _ = model(window, tier, targets, buckets[:, 1])  # another bucket
    assert gate.shape == (6, 4) and torch.all(gate[:, 0] == 0)
    assert torch.all(gate[:, 1:] > 0)  # the learned gate is open after the c1 step
    assert torch.allclose(logits_a[:, 0], logits_b[:, 0])  # c1 cannot depend on what c1 retrieves
    assert not torch.allclose(logits_a[:, 1:], logits_b[:, 1:])


def test_fixed_gate_is_one_half_after_the_c1_step():
    model = make_model(CODES, hard_search=True, gate="fixed")
    window, tier, buckets = batch(len(CODES))
    _, gate = model(window, tier, torch.as_tensor(CODES), buckets[:, 0])
    assert torch.all(gate[:, 0] == 0) and torch.allclose(gate[:, 1:], torch.tensor(0.5))


def test_tiger_has_no_gate_and_empty_buckets_stay_finite():
    tiger = make_model(CODES)
    window, tier, buckets = batch(len(CODES))
    logits, gate = tiger(window, tier, torch.as_tensor(CODES))
    assert gate is None
    glass = make_model(CODES, hard_search=True)
    empty = torch.full((6, 4), -1)
    logits, gate = glass(torch.full((6, 5), -1), tier, torch.as_tensor(CODES), empty)
    assert torch.isfinite(logits.gather(2, (torch.as_tensor(CODES) + glass.offsets)[..., None])).all()


def test_trie_lists_exactly_the_item_prefixes():
    trie = SIDTrie(CODES, tuple(int(CODES[:, i].max()) + 1 for i in range(4)))
    assert trie.item_of(CODES).tolist() == list(range(len(CODES)))
    assert trie.item_of(np.array([[0, 0, 0, 0], [2, 0, 0, 2]])).tolist() == [-1, -1]


@settings(max_examples=15, deadline=None)
@given(n_items=st.integers(2, 30), seed=st.integers(0, 10_000), beam=st.integers(1, 12), glass=st.booleans())
def test_constrained_decoding_never_returns_a_sid_that_is_not_an_item(n_items, seed, beam, glass):
    rng = np.random.default_rng(seed)
    codes = add_collision_digit(rng.integers(0, 3, size=(n_items, 3)))
    sizes = (3, 3, 3, int(codes[:, 3].max()) + 1)
    model = make_model(codes, sizes=sizes, hard_search=glass, tier_dim=9 if glass else 0)
    window, tier, buckets = batch(n_items, tier_dim=9, seed=seed)
    trie = SIDTrie(codes, sizes)
    result = beam_search(model, window, tier, buckets, trie, beam=beam, constrained=True)
    items = set(map(tuple, codes.tolist()))
    live = np.isfinite(result.scores)
    assert live[:, 0].all()  # there is always at least one real item to return
    for sid, ok in zip(result.sids.reshape(-1, 4), live.ravel()):
        if ok:
            assert tuple(sid.tolist()) in items
    assert result.invalid_rate == 0.0
    assert (result.items[live] >= 0).all()
    assert live.sum(1).max() <= min(beam, n_items)
    assert np.all(np.diff(result.scores[live[:, -1]], axis=1) <= 1e-6)  # best first


def test_free_decoding_can_produce_invalid_sids_and_counts_them():
    codes = add_collision_digit(np.array([[0, 0, 0], [1, 1, 1]]))
    sizes = (2, 2, 2, 1)
    model = make_model(codes, sizes=sizes)
    window, tier, buckets = batch(2)
    free = beam_search(model, window, tier, None, SIDTrie(codes, sizes), beam=8, constrained=False)
    assert free.sids.shape == (6, 8, 4)
    invalid = (free.items < 0) & np.isfinite(free.scores)
    assert invalid.any()  # only 2 of the 8 possible SIDs are items
    assert free.invalid_rate == invalid.sum() / np.isfinite(free.scores).sum()


def test_every_beam_reads_the_bucket_of_its_own_c1():
    model = make_model(CODES, hard_search=True)
    window, tier, buckets = batch(len(CODES))
    trie = SIDTrie(CODES, tuple(int(CODES[:, i].max()) + 1 for i in range(4)))
    base = beam_search(model, window, tier, buckets, trie, beam=6)
    other = buckets.clone()
    other[:, 2] = -1  # empty the buckets of code 2 only
    changed = beam_search(model, window, tier, other, trie, beam=6)
    c1_two = base.sids[..., 0] == 2
    assert np.allclose(base.prefixes[0][..., 0], changed.prefixes[0][..., 0])  # the c1 step is untouched
    assert not np.allclose(np.where(c1_two, base.scores, 0), np.where(c1_two, changed.scores, 0))
