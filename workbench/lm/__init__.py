"""The tiny-language-model kit shared by methods 1 (needs) and 3 (merging).

- ``tokenizer``  word-level tokenizer built with ``tokenizers``, wrapped as a transformers fast tokenizer
- ``model``      ``TinyLMConfig`` and a factory for small Llama/Qwen2 causal LMs
- ``sft``        supervised fine-tuning on (prompt, completion) pairs, loss on the completion only
- ``generate``   batched generation, optionally under a grammar constraint (tries, token sets)
- ``lora``       LoRA adapters through peft
- ``checkpoint`` load any local ``AutoModelForCausalLM`` folder + tokenizer (no hub access)
"""

from workbench.lm.checkpoint import load_causal_lm, save_causal_lm
from workbench.lm.generate import Grammar, TokenTrie, generate
from workbench.lm.lora import LoraSettings, add_lora, merge_lora
from workbench.lm.model import TinyLMConfig, count_parameters, make_model
from workbench.lm.sft import SFTSettings, sequence_logprobs, train_sft
from workbench.lm.tokenizer import build_word_tokenizer

__all__ = [
    "Grammar",
    "LoraSettings",
    "SFTSettings",
    "TinyLMConfig",
    "TokenTrie",
    "add_lora",
    "build_word_tokenizer",
    "count_parameters",
    "generate",
    "load_causal_lm",
    "make_model",
    "merge_lora",
    "save_causal_lm",
    "sequence_logprobs",
    "train_sft",
]
