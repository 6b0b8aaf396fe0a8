"""Grammar-constrained chains always parse and name existing ids, even from an untrained model."""

import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.lm import TinyLMConfig, make_model
from workbench.needs import inference, prompts, training
from workbench.needs.world import WorldSpec, generate_world


@pytest.fixture(scope="module")
def setting():
    data = generate_world(WorldSpec(users=20, min_records=20, max_records=22), seed=4)
    rec = data.records
    pop = prompts.Popularity.from_records(rec[rec["split"] != "test"], data.merchants)
    cases = prompts.build_cases(data, rec, rec["split"] == "test", rec["split"] != "test", pop, 4, 3, 5, keep_pool=True)
    tok = training.make_tokenizer(data, 160)
    return data, pop, cases, tok


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 1000), beams=st.sampled_from([1, 2]))
def test_constrained_chains_always_parse_and_ids_exist(setting, seed, beams):
    data, pop, cases, tok = setting
    model = make_model(TinyLMConfig(hidden=16, layers=1, heads=2, intermediate=32, max_len=160), tok, seed=seed)
    preds = inference.predict_chains(model, tok, data, cases, pop, n_popular=3, beams=beams)
    phrase_need, need_cats = data.phrase_need, data.need_categories
    merchants = set(data.merchants["merchant"])
    for (_, case), (_, pred) in zip(cases.iterrows(), preds.iterrows()):
        chain = prompts.parse_chain(pred["completion"])
        assert chain is not None, pred["completion"]
        assert chain.need in phrase_need and chain.category in need_cats[phrase_need[chain.need]]
        assert set(pred["services"]) <= merchants and len(set(pred["services"])) == len(pred["services"])
        cat_of = data.merchant_category
        assert all(cat_of[m] in need_cats[phrase_need[chain.need]] or beams > 1 for m in pred["services"])
        assert pred["need_pred"] == phrase_need[pred["need_text_pred"]]


def test_flat_ranks_its_candidates(setting):
    data, pop, cases, tok = setting
    model = make_model(TinyLMConfig(hidden=16, layers=1, heads=2, intermediate=32, max_len=160), tok, seed=0)
    preds = inference.predict_flat(model, tok, cases)
    for (_, case), services in zip(cases.iterrows(), preds["services"]):
        assert services and set(services) <= set(case["flat_candidates"])


def test_shared_head_scores_equal_each_candidates_own_log_prob():
    """``category/rank`` venues are two tokens; grouping them by their first token (one pass per group)
    must give every candidate exactly its own sequence log-prob, mixed with one-token candidates."""
    from workbench.lm import build_word_tokenizer, sequence_logprobs

    words = ["bar/0", "bar/1", "bar/2", "cafe/0", "cafe/1", "mA017", "lunch", "at", "{", "[", ":"]
    tok = build_word_tokenizer([], extra_tokens=words, model_max_length=32)
    model = make_model(TinyLMConfig(hidden=16, layers=1, heads=2, intermediate=32, max_len=32), tok, seed=3).eval()
    prefixes = ["lunch at bar/1 {", "cafe/0 lunch : ["]
    cand_lists = [["bar/2", "bar/0", "cafe/1", "mA017"], ["cafe/1", "bar/1", "bar/2"]]
    assert inference.word_ids(tok, "bar/2")[0] == inference.word_ids(tok, "bar/0")[0]  # the shared head
    next_logp = inference.score_paths(model, tok, prefixes, [1, 1])[1]
    got = inference.rank_candidates(model, tok, prefixes, cand_lists, next_logp)
    for prefix, cands, scores in zip(prefixes, cand_lists, got):
        want = sequence_logprobs(model, tok, [prefix] * len(cands), cands).numpy()
        assert scores == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize("block_size", [0, 4])
def test_marginal_ranking_equals_greedy_with_one_path_and_differs_with_more(setting, block_size):
    """k = 1: summing over the one kept path is the greedy chain's ranking, case for case, with or
    without the candidate block. With more paths the marginal sums a service's paths, so it may
    reorder (it never invents a service)."""
    data, pop, cases, tok = setting
    tok = training.make_tokenizer(data, 200, candidates=True) if block_size else tok
    model = make_model(TinyLMConfig(hidden=16, layers=1, heads=2, intermediate=32, max_len=200), tok, seed=1)
    chains = lambda beams, **kw: inference.predict_chains(model, tok, data, cases, pop, n_popular=3, beams=beams,  # noqa: E731
                                                          block_size=block_size, **kw)
    pd.testing.assert_frame_equal(chains(1), chains(1, rank="marginal"))
    best4, marg4 = chains(4), chains(4, rank="marginal")
    assert [set(s) for s in best4["services"]] == [set(s) for s in marg4["services"]]
    with pytest.raises(ValueError, match="marginal"):
        chains(1, rank="sum")


def test_with_the_block_the_model_ranks_the_blocks_candidates_and_the_path_score_leaves_the_block_out(setting):
    data, pop, cases, _ = setting
    tok = training.make_tokenizer(data, 200, candidates=True)
    model = make_model(TinyLMConfig(hidden=16, layers=1, heads=2, intermediate=32, max_len=200), tok, seed=2)
    preds = inference.predict_chains(model, tok, data, cases, pop, n_popular=3, beams=1, block_size=4)
    for (_, case), (_, pred) in zip(cases.iterrows(), preds.iterrows()):
        given, _ = prompts.candidate_block(prompts.case_pool(case), case, pred["category_pred"], pop, 3, 4)
        assert pred["services"] and set(pred["services"]) == set(given)
    # the path's log-prob skips the block's words: the same as the path scored without them
    text = "ctx a b { need : x } { cands : c1 m1 x1 ago1 r2 } { services : ["
    with_block = inference.score_paths(model, tok, [text], [2], skips=[(7, 15)])[0]
    parts = text.split()
    lp = torch.log_softmax(model(input_ids=torch.tensor([tok(text, add_special_tokens=False)["input_ids"]])).logits[0], -1)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    kept = [j for j in range(2, len(parts)) if not 7 <= j < 15]
    assert with_block[0] == pytest.approx(float(sum(lp[j - 1, ids[j]] for j in kept)), abs=1e-4)


def test_marginal_ranking_sums_a_services_paths():
    import math

    scored = [(math.log(.40), "m1", "lunch", "ff"), (math.log(.25), "m2", "lunch", "ns"),
              (math.log(.25), "m2", "midday_meal", "ns"), (math.log(.10), "m3", "dinner", "bbq")]
    assert inference.marginal_ranking(scored) == ["m2", "m1", "m3"]  # .50 beats the best single path's .40
    assert inference.marginal_ranking(scored[:2]) == ["m1", "m2"]
