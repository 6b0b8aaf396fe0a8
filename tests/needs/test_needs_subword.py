"""``tokenizer=subword``: ids spelt in BPE pieces (real data's thousands of venues) build end to end."""

import pytest
from transformers import AutoTokenizer

from workbench import methods
from workbench.errors import WorkbenchError
from workbench.runner import Runner
from workbench.needs import training
from workbench.needs.config import Config
from workbench.needs.prepare import load_data
from workbench.needs.prompts import parse_chain
from workbench.store import ArtifactStore


@pytest.fixture(scope="module")
def small_config():
    return Config.for_profile("smoke", users=40, min_records=20, max_records=24, variants=("isolated", "clustered_sft", "full"),
                              sft_steps=6, sft_batch=8, rl_steps=2, rl_prompts=2, rl_generations=2, max_train_cases=200,
                              umap_points=100, tokenizer="subword", subword_vocab=150)


def test_auto_keeps_words_for_the_synthetic_world_and_bad_choice_is_one_sentence(small_config):
    data = load_data(small_config, 0)
    assert len(data.merchants) <= training.SUBWORD_ABOVE
    assert training.tokenizer_kind("auto", data) == "word" and training.tokenizer_kind("subword", data) == "subword"
    with pytest.raises(WorkbenchError, match="tokenizer must be one of word, subword, auto"):
        small_config.with_overrides(["tokenizer=bpe"])


@pytest.mark.slow
def test_subword_build_runs_and_every_chain_parses(tmp_path, small_config):
    run = methods.build_many([small_config], ArtifactStore(tmp_path / "store"), runner=Runner(workers=1))[0]
    compute = run.read_json("compute")["variants"]
    assert compute["clustered_sft"]["tokenizer"] == "subword" and compute["clustered_sft"]["vocab"] <= 150
    tok = AutoTokenizer.from_pretrained(run.path / "model_full", local_files_only=True)
    merchants = set(run.read_parquet("merchants")["merchant"])
    assert any(len(tok(" " + m, add_special_tokens=False)["input_ids"]) > 1 for m in merchants)  # really pieces
    phrases = set(run.read_parquet("phrases")["phrase"])
    predictions = run.read_parquet("predictions")
    lm = predictions[predictions["variant"].isin(["clustered_sft", "full"])]
    assert len(lm)
    for completion in lm["completion"]:
        chain = parse_chain(completion)
        assert chain is not None and chain.need in phrases and set(chain.services) <= merchants, completion
