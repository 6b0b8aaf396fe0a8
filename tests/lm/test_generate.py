"""Constrained generation never emits a token the constraint forbids (property tests)."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.lm import Grammar, TinyLMConfig, TokenTrie, build_word_tokenizer, generate, make_model

WORDS = [f"w{i}" for i in range(40)]


@pytest.fixture(scope="module")
def random_lm():
    tok = build_word_tokenizer([" ".join(WORDS)])
    model = make_model(TinyLMConfig(hidden=32, layers=1, heads=2, intermediate=64, max_len=64), tok, seed=0)
    return model, tok


def word_ids(tok, words):
    return tok.convert_tokens_to_ids(list(words))


sequences = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4), min_size=1, max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seqs=sequences, seed=st.integers(0, 10_000))
def test_trie_outputs_are_always_members(random_lm, seqs, seed):
    model, tok = random_lm
    trie = TokenTrie([word_ids(tok, s) for s in seqs], eos_id=tok.eos_token_id)
    out = generate(model, tok, ["w1 w2", "w3"], max_new_tokens=6, constraint=trie, do_sample=True,
                   temperature=2.0, num_return_sequences=4, seed=seed)
    for ids in out.token_ids:
        assert ids in trie, tok.convert_ids_to_tokens(ids)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_grammar_outputs_always_parse(random_lm, seed):
    """A random grammar of literals and choices whose options depend on earlier choices."""
    model, tok = random_lm
    rng = random.Random(seed)
    grammar = Grammar(tok.eos_token_id)
    expected = []  # (kind, options or function)
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.4:
            lit = tuple(word_ids(tok, rng.sample(WORDS, rng.randint(1, 2))))
            grammar.literal(lit)
            expected.append(("literal", lit))
        else:
            table = {w: [tuple(word_ids(tok, [v])) for v in rng.sample(WORDS, rng.randint(1, 5))] for w in WORDS}
            base = [tuple(word_ids(tok, [v])) for v in rng.sample(WORDS, rng.randint(1, 5))]

            def options(chosen, table=table, base=base):
                if not chosen:
                    return base
                return table[tok.convert_ids_to_tokens(chosen[-1][0])]

            grammar.choice(options)
            expected.append(("choice", options))
    out = generate(model, tok, ["w5 w6"], max_new_tokens=12, constraint=grammar, do_sample=True,
                   temperature=3.0, num_return_sequences=6, seed=seed)
    for ids in out.token_ids:
        pos, chosen = 0, []
        for kind, spec in expected:
            if kind == "literal":
                assert tuple(ids[pos:pos + len(spec)]) == spec
                pos += len(spec)
            else:
                opts = spec(chosen)
                got = tuple(ids[pos:pos + 1])
                assert got in opts
                chosen.append(got)
                pos += 1
        assert pos == len(ids), "nothing may follow the last part"


def test_per_prompt_constraints_and_greedy_determinism(random_lm):
    model, tok = random_lm
    tries = [TokenTrie([word_ids(tok, ["w1"])], tok.eos_token_id), TokenTrie([word_ids(tok, ["w2", "w3"])], tok.eos_token_id)]
    out = generate(model, tok, ["w0", "w0 w0"], max_new_tokens=5, constraint=tries)
    assert out.texts == ["w1", "w2 w3"] and out.n_tokens == [1, 2]
    with pytest.raises(ValueError, match="one constraint per prompt"):
        generate(model, tok, ["w0"], constraint=tries)
    a = generate(model, tok, ["w0", "w9"], max_new_tokens=5)
    b = generate(model, tok, ["w0", "w9"], max_new_tokens=5)
    assert a.texts == b.texts
