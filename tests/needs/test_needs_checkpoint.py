"""The same pipeline fine-tunes a user's local checkpoint with LoRA (here a tiny one this test saves)."""

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from workbench import methods
from workbench.runner import Runner
from workbench.lm import TinyLMConfig, build_word_tokenizer, make_model, save_causal_lm
from workbench.needs import training
from workbench.needs.config import Config
from workbench.needs.prepare import load_data
from workbench.needs.prompts import parse_chain
from workbench.store import ArtifactStore

pytestmark = pytest.mark.slow


def bpe_tokenizer(texts):
    """A small byte-level BPE tokenizer, like a real checkpoint's: our ids become several tokens."""
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "<unk>", "<bos>", "<eos>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", bos_token="<bos>",
                                   eos_token="<eos>", padding_side="left")


@pytest.fixture(scope="module")
def small_config():
    return Config.for_profile("smoke", users=40, min_records=20, max_records=24, variants=("isolated", "clustered_sft", "full"),
                              sft_steps=6, sft_batch=8, rl_steps=2, rl_prompts=2, rl_generations=2, max_train_cases=200,
                              sft_lr=1e-3, umap_points=100)


def test_bpe_checkpoint_with_lora_builds_and_every_chain_parses(tmp_path, small_config):
    data = load_data(small_config, 0)
    texts = ["{ need : } { category : } { services : [ ] } ctx pat ans ; x1 x2 x3"] + training.domain_words(data)
    tok = bpe_tokenizer(texts)
    save_causal_lm(make_model(TinyLMConfig(hidden=32, layers=1, heads=2, intermediate=64, max_len=512), tok, seed=0),
                   tok, tmp_path / "ckpt")
    config = small_config.with_overrides({"base_checkpoint": str(tmp_path / "ckpt"), "lora_r": 4})
    run = methods.build_many([config], ArtifactStore(tmp_path / "store"), runner=Runner(workers=1))[0]
    compute = run.read_json("compute")["variants"]
    assert compute["clustered_sft"]["kind"] == "checkpoint+lora"
    predictions = run.read_parquet("predictions")
    merchants = set(run.read_parquet("merchants")["merchant"])
    phrases = set(run.read_parquet("phrases")["phrase"])
    for completion in predictions.loc[predictions["variant"].isin(["clustered_sft", "full"]), "completion"]:
        chain = parse_chain(completion)
        assert chain is not None and chain.need in phrases and set(chain.services) <= merchants, completion
    assert run.exists("model_full/config.json")


def test_word_checkpoint_without_our_words_gets_them_added(tmp_path, small_config):
    tok = build_word_tokenizer(["some other vocabulary entirely"])
    save_causal_lm(make_model(TinyLMConfig(hidden=16, layers=1, heads=2, intermediate=32), tok, seed=0), tok, tmp_path / "ck")
    data = load_data(small_config, 0)
    model, tok2, info = training.initial_model(TinyLMConfig(), data, str(tmp_path / "ck"), 4, 0, "cpu")
    assert info["kind"] == "checkpoint+lora" and info["added_tokens"] == len(training.domain_words(data))
    assert tok2.unk_token_id not in tok2(" mA001 lunch fast_food")["input_ids"]
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any("lora_" in n for n in trainable) and any("trainable_tokens" in n for n in trainable)
