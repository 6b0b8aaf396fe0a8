"""The model and its training: a tiny LM from scratch (or a local checkpoint + LoRA), curriculum SFT,
GRPO with TRL's ``GRPOTrainer``, and continued SFT at the same compute for comparison.

- ``domain_words``/``make_tokenizer``: every id of the world is one word of a word-level tokenizer
  (real venues ``category/rank``: two tokens, so the vocabulary holds categories and ranks, not
  venues), or — ``tokenizer=subword``, or ``auto`` above ``SUBWORD_ABOVE`` vocabulary entries — a few
  pieces of a BPE tokenizer trained on the domain's words, at most ``subword_vocab`` ids.
- ``initial_model``: ``make_model`` from the settings, or ``load_causal_lm(base_checkpoint)`` with LoRA
  adapters (peft) on all linear layers; words a checkpoint's tokenizer cannot spell are added as new
  tokens whose embedding rows train too (peft ``trainable_token_indices``).
- ``curriculum_sft``: need only → need + category → the full path, each a share of the steps
  (the completion is cut to the stage; loss on the completion only).
- ``train_grpo``: TRL GRPO on sampled completions, rewards from ``rewards.reward_functions``; the log
  keeps every step's per-reward means, the total reward and ``frac_reward_zero_std``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, replace

import pandas as pd
import torch

from workbench.atomic import scratch_dir
from workbench.errors import WorkbenchError
from workbench.lm import SFTSettings, TinyLMConfig, build_word_tokenizer, load_causal_lm, make_model, train_sft
from workbench.lm.sft import bf16_ok, last_token_logprobs
from workbench.lm.tokenizer import build_subword_tokenizer, word_pieces
from workbench.needs.prompts import (BLOCK_WORDS, COUNT_WORDS, LAST_WORDS, MATCH_WORDS, SYNTAX_WORDS, chain_text,
                                     curriculum_completion, parse_chain, place_words, prompt_text)
from workbench.needs.data import DAY_TYPES, HOUR_BINS, NeedsData
from workbench.progress import Progress, scaled, silent
from workbench.runtime import resolve_device


def domain_words(data: NeedsData, candidates: bool = False) -> list[str]:
    """Every word a prompt or completion can contain, in a fixed order (with ``candidates``, the
    candidate block's words too)."""
    records = data.records
    words = [*SYNTAX_WORDS, *DAY_TYPES, *HOUR_BINS]
    for column in ("scene", "weather", "city"):
        words += sorted(records[column].astype(str).unique())
    words += data.phrases["phrase"].tolist() + data.categories["category"].tolist() + data.merchants["merchant"].tolist()
    if "outcome" in records:  # a coupled world's context names the last order's outcome
        words += LAST_WORDS
    if candidates:
        words += BLOCK_WORDS
    return list(dict.fromkeys(words))


TOKENIZERS = ("word", "subword", "auto")
SUBWORD_ABOVE = 4000
"""``tokenizer=auto`` turns sub-word when the word tokenizer would need more entries than this (the
synthetic worlds need a few hundred; Foursquare MAT 2.2k with ``category/rank`` venues, 11k without)."""


def tokenizer_kind(setting: str, data: NeedsData, candidates: bool = False) -> str:
    """``word`` or ``subword`` for the ``tokenizer`` setting (``auto`` decides by the word vocabulary's size)."""
    if setting not in TOKENIZERS:
        raise WorkbenchError(f"Unknown tokenizer {setting!r}; choose word, subword or auto (--set tokenizer=auto).")
    if setting == "auto":
        entries = {piece for w in domain_words(data, candidates) for piece in word_pieces(w)}
        return "subword" if len(entries) > SUBWORD_ABOVE else "word"
    return setting


def tokenizer_texts(data: NeedsData, candidates: bool = False) -> list[str]:
    """What the sub-word tokenizer is trained on: every domain word once (so every id can be spelled),
    then one prompt-and-completion-shaped line per history record, so words are as frequent as in the
    training texts — frequent words (syntax, needs, categories, popular venues) become one token."""
    history = data.records[data.records["split"] != "test"]
    lines = [" ".join(domain_words(data, candidates))]
    for i, r in enumerate(history.itertuples()):
        place = place_words(r.category, r.merchant)
        line = f"{MATCH_WORDS[i % 3]} {r.hour_bin} {r.scene} {r.need_text} {place} {COUNT_WORDS[i % 9]}"
        lines.append(f"{prompt_text(r, [line])} {chain_text(r.need_text, r.category, [r.merchant])}")
    return lines


def make_tokenizer(data: NeedsData, max_len: int, kind: str = "word", subword_vocab: int = 1000,
                   candidates: bool = False):
    """The tiny model's tokenizer: ``kind`` is a ``tokenizer`` setting (word, subword or auto);
    ``candidates``: it also spells the candidate block."""
    if tokenizer_kind(kind, data, candidates) == "subword":
        return build_subword_tokenizer(tokenizer_texts(data, candidates), vocab_size=subword_vocab, model_max_length=max_len)
    return build_word_tokenizer([], extra_tokens=domain_words(data, candidates), model_max_length=max_len)


def initial_model(cfg: TinyLMConfig, data: NeedsData, base_checkpoint: str, lora_r: int, seed: int, device: str,
                  tokenizer: str = "word", subword_vocab: int = 1000, candidates: bool = False):
    """``(model, tokenizer, info)``: a fresh tiny LM (``tokenizer``: word, subword or auto), or a local
    checkpoint wrapped with LoRA (its own tokenizer); ``candidates``: the vocabulary spells the
    candidate block."""
    if not base_checkpoint:
        tok = make_tokenizer(data, cfg.max_len, tokenizer, subword_vocab, candidates)
        model = make_model(cfg, tok, seed=seed).to(resolve_device(device))
        return model, tok, {"kind": "tiny", "added_tokens": 0, "tokenizer": tokenizer_kind(tokenizer, data, candidates),
                            "vocab": len(tok)}
    from peft import LoraConfig, get_peft_model

    model, tok = load_causal_lm(base_checkpoint, device=str(resolve_device(device)))
    missing = [w for w in domain_words(data, candidates) if tok.unk_token_id is not None
               and tok.unk_token_id in tok(" " + w, add_special_tokens=False)["input_ids"]]
    added: list[int] = []
    if missing:  # a word-level checkpoint without our words: add them as tokens
        tok.add_tokens(missing)
        model.resize_token_embeddings(len(tok))
        added = tok.convert_tokens_to_ids(missing)
    if tok.eos_token_id is None:
        raise WorkbenchError(f"The checkpoint at {base_checkpoint} has no end-of-sequence token; it cannot end a chain.")
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    config = LoraConfig(r=lora_r, lora_alpha=2 * lora_r, target_modules="all-linear", task_type="CAUSAL_LM",
                        trainable_token_indices={"embed_tokens": added} if added else None)
    model = get_peft_model(model, config)
    return model, tok, {"kind": "checkpoint+lora", "path": base_checkpoint, "added_tokens": len(added)}


def merged(model):
    """The plain transformers model (LoRA adapters folded in) for saving and inference."""
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model


# ---- supervised ----------------------------------------------------------------------------------
CURRICULUM = (("need", 0.2), ("category", 0.2), ("services", 0.6))


def curriculum_sft(model, tok, cases: pd.DataFrame, settings: SFTSettings, phases=CURRICULUM,
                   column: str = "completion", progress: Progress | None = None, label: str = "SFT",
                   prompt_loss_stages: tuple[str, ...] | None = None) -> list[dict]:
    """Train in curriculum phases; returns the loss curve with the phase of each point.

    ``prompt_loss_stages``: the phases that keep ``settings``' loss on the prompt (None = all); the
    others train on the completion only."""
    curve: list[dict] = []
    done = 0
    total = sum(round(settings.steps * share) for _, share in phases) or 1
    for i, (stage, share) in enumerate(phases):
        steps = round(settings.steps * share)
        if steps == 0:
            continue
        pairs = [(p, curriculum_completion(c, stage) if column == "completion" else c)
                 for p, c in zip(cases["prompt"], cases[column])]
        report = scaled(progress, done / total, (done + steps) / total)
        phase = replace(settings, steps=steps, seed=settings.seed + i, warmup=min(settings.warmup, steps // 5))
        if prompt_loss_stages is not None and stage not in prompt_loss_stages:
            phase = replace(phase, completion_only_loss=True, batch_softmax=False, batch_negatives=0)
        loss = train_sft(model, tok, pairs, phase,
                         progress=report, label=f"{label} ({stage})")
        curve += [{"step": done + row["step"], "loss": row["loss"], "stage": stage} for row in loss]
        done += steps
    return curve


# ---- reinforcement -------------------------------------------------------------------------------
@dataclass(frozen=True)
class GRPOSettings:
    steps: int = 60
    prompts_per_step: int = 8
    generations: int = 8
    lr: float = 1e-4
    beta: float = 0.0
    temperature: float = 1.0
    max_completion_length: int = 24
    compact_head: bool = True
    """On one CPU process, score completions through the LM head at their positions only
    (``last_token_logprobs``); False = TRL's fused head, which scores every prompt position too (kept
    for comparison: ``make bench``)."""
    seed: int = 0
    device: str = "auto"


def _grpo_trainer_class(compact_head: bool = True):
    """TRL's ``GRPOTrainer`` that, on one CPU process, scores completions with ``last_token_logprobs``
    (only the completion's positions through the LM head; TRL's fused head scores every position
    off Triton devices). Same numbers, a cheaper step on large vocabularies: on Foursquare's 11k
    venue words a demo GRPO variant took 120 s instead of 280. It also keeps each batch's dataset rows
    (``rollout_rows``) for a ``rollout_func``, which TRL hands the prompts only (``block_rollout``)."""
    from trl import GRPOTrainer

    class Trainer(GRPOTrainer):
        rollout_rows: list[dict] = []

        def _generate_and_score_completions(self, inputs):
            self.rollout_rows = inputs
            return super()._generate_and_score_completions(inputs)

        def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep,
                                               batch_size=None, compute_entropy=False, compute_aux_loss=False,
                                               **media):
            if (not compact_head or self.args.device.type != "cpu" or self.accelerator.num_processes > 1
                    or compute_aux_loss or any(v is not None for v in media.values())):
                return super()._get_per_token_logps_and_entropies(
                    model, input_ids, attention_mask, logits_to_keep, batch_size, compute_entropy, compute_aux_loss,
                    **media)
            logps, entropies = last_token_logprobs(model, input_ids, attention_mask, logits_to_keep,
                                                   self.temperature, compute_entropy)
            return logps, entropies, None

    return Trainer


def _sample(model, sequences: list[list[int]], config, pad_id: int, stopping=None) -> list[list[int]]:
    """Sampled continuations of token-id ``sequences`` (left-padded into one batch), each cut after its
    end-of-sequence token or, with ``stopping`` (a ``StoppingCriteria`` class taking the prompt width),
    after the token where it stopped."""
    from transformers import StoppingCriteriaList

    width = max(map(len, sequences))
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, seq in enumerate(sequences):
        ids[i, width - len(seq):] = torch.tensor(seq)
        mask[i, width - len(seq):] = 1
    device = next(model.parameters()).device
    criteria = StoppingCriteriaList([stopping(width)]) if stopping is not None else None
    with torch.no_grad():
        out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), generation_config=config,
                             stopping_criteria=criteria)
    eos = set(config.eos_token_id if isinstance(config.eos_token_id, list) else [config.eos_token_id])
    cut = []
    for row in out[:, width:].tolist():
        kept = []
        for token in row:
            kept.append(token)
            if token in eos or (stopping is not None and stopping.done(kept)):
                break
        cut.append(kept)
    return cut


def block_rollout(block) -> "callable":
    """A TRL ``rollout_func`` that hands stage 3 its candidates tool-style. Each completion is sampled in
    two parts: the chain up to the category's closing brace, then — after ``block(case, category)``
    (the candidate block of the sampled category for the dataset row's case; ``""`` for a category
    that does not exist) is inserted — the rest. The block's tokens are the tool's, not the model's:
    ``env_mask`` leaves them out of the loss. Sampling uses the trainer's own generation settings."""
    import copy

    from transformers import StoppingCriteria

    def rollout(prompts, trainer) -> dict:
        rows = trainer.rollout_rows
        if [r["prompt"] for r in rows] != list(prompts):
            raise RuntimeError("the GRPO rollout lost track of its cases (TRL changed how it passes prompts)")
        tok = trainer.processing_class
        model = trainer.accelerator.unwrap_model(trainer.model)
        close_ids = tok(" }", add_special_tokens=False)["input_ids"]
        if len(close_ids) != 1:
            raise WorkbenchError("The candidate block needs '}' to be one token of the tokenizer; set candidates=0 for it.")
        close, pad = close_ids[0], tok.pad_token_id

        class AfterCategory(StoppingCriteria):  # the second closing brace ends "{ need : . } { category : . }"
            def __init__(self, width):
                self.width = width

            def __call__(self, input_ids, scores, **kwargs):
                return (input_ids[:, self.width:] == close).sum(1) >= 2

            @staticmethod
            def done(kept):
                return kept.count(close) >= 2

        prompt_ids = tok(text=list(prompts))["input_ids"]
        config = copy.deepcopy(trainer.generation_config)
        heads = _sample(model, prompt_ids, config, pad, AfterCategory)
        completions, masks = [list(h) for h in heads], [[1] * len(h) for h in heads]
        todo, inputs = [], []
        for i, (row, head) in enumerate(zip(rows, heads)):
            if not head or head[-1] != close:  # ended (or ran out) before the category was closed
                continue
            chain = parse_chain(tok.decode(head, skip_special_tokens=True))
            text = block(row["case"], chain.category) if chain is not None and chain.category else ""
            block_ids = tok(" " + text, add_special_tokens=False)["input_ids"] if text else []
            completions[i] += block_ids
            masks[i] += [0] * len(block_ids)
            todo.append(i)
            inputs.append(prompt_ids[i] + completions[i])
        if todo:
            for i, tail in zip(todo, _sample(model, inputs, config, pad)):
                completions[i] += tail
                masks[i] += [1] * len(tail)
        return {"prompt_ids": prompt_ids, "completion_ids": completions, "logprobs": None, "env_mask": masks}

    return rollout


def train_grpo(model, tok, cases: pd.DataFrame, reward_funcs: list, settings: GRPOSettings,
               weights: list[float] | None = None, progress: Progress | None = None, label: str = "GRPO",
               block=None) -> list[dict]:
    """GRPO with TRL on ``cases`` (prompt + truth columns); returns one log row per step. ``block``
    (``f(case position, category) -> candidate block text``): the rollouts insert the sampled
    category's candidate block (``block_rollout``)."""
    import datasets
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOConfig

    datasets.disable_progress_bars()
    logging.getLogger("transformers.trainer").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*", category=FutureWarning)
    progress = progress or silent
    rows = cases[["prompt", "need_text", "category", "merchant"]].to_dict("records")
    if block is not None:  # the rollout finds each prompt's case by its position in ``cases``
        rows = [{**row, "case": i} for i, row in enumerate(rows)]
        warnings.filterwarnings("ignore", message=".*rollout_func.*")
    device = resolve_device(settings.device)

    class Report(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            progress(f"{label}: step {state.global_step}/{settings.steps}", state.global_step / settings.steps)

    # A sub-word tokenizer spells a chain in more tokens: room for the longest training chain + the end.
    longest = max((len(tok(" " + c, add_special_tokens=False)["input_ids"]) + 1 for c in cases["completion"]), default=0)
    with scratch_dir("workbench-grpo-") as out:  # the job's folder in a build (see workbench.atomic)
        args = GRPOConfig(
            output_dir=str(out), max_steps=settings.steps, learning_rate=settings.lr, lr_scheduler_type="constant",
            per_device_train_batch_size=settings.prompts_per_step * settings.generations,
            num_generations=settings.generations,
            max_completion_length=max(settings.max_completion_length, longest),
            temperature=settings.temperature, beta=settings.beta, logging_steps=1, save_strategy="no",
            report_to=[], use_cpu=device.type == "cpu", bf16=bf16_ok(device), disable_tqdm=True, seed=settings.seed,
            data_seed=settings.seed, dataloader_num_workers=0, reward_weights=weights,
            gradient_checkpointing=False,  # TRL's default is on: a tiny model needs no memory saving, and
            # recomputing each layer's forward in the backward pass was ~6% of a demo GRPO job (same bytes)
        )
        trainer = _grpo_trainer_class(settings.compact_head)(
            model=model, reward_funcs=reward_funcs, args=args, train_dataset=datasets.Dataset.from_list(rows),
            processing_class=tok, callbacks=[Report()], rollout_func=block_rollout(block) if block is not None else None)
        trainer.remove_callback(PrinterCallback)
        trainer.train()
    model.eval()
    log = []
    for entry in trainer.state.log_history:
        if "reward" not in entry:
            continue
        row = {"step": int(entry["step"]), "reward": float(entry["reward"]),
               "frac_reward_zero_std": float(entry.get("frac_reward_zero_std", float("nan")))}
        for key, value in entry.items():
            if key.startswith("rewards/") and key.endswith("/mean"):
                row[key.split("/")[1]] = float("nan") if value is None else float(value)
        log.append(row)
    return log


def save_model(model, tok, path):
    """Save the plain model (adapters folded in) and tokenizer; returns the plain model."""
    plain = merged(model)
    plain.save_pretrained(path, safe_serialization=True)
    tok.save_pretrained(path)
    return plain


def resume_model(path, base_checkpoint: str, lora_r: int, device: str):
    """Load a saved variant to continue training it; with a base checkpoint, on fresh LoRA adapters."""
    model, tok = load_causal_lm(path, device=str(resolve_device(device)))
    if base_checkpoint:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=lora_r, lora_alpha=2 * lora_r, target_modules="all-linear",
                                                 task_type="CAUSAL_LM"))
    return model, tok
