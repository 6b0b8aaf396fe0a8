"""Supervised fine-tuning on (prompt, completion) pairs with the loss on the completion only.

A thin layer over TRL's ``SFTTrainer`` (prompt-completion datasets get completion-only loss there by
default; the HF Trainer underneath gives the GPU/multi-GPU path for free). What this module adds:
settings as one dataclass, a workbench progress callback, the loss curve returned as a list,
``sequence_logprobs`` to score given completions (used to rank candidates), and on the CPU a loss that
projects only the supervised positions through the LM head (``completion_loss``; its sampled-softmax
variant for the prompt, ``batch_softmax``), and ``last_token_logprobs``, the same saving for GRPO.

Text convention: a completion starts with a space (``" 7"``) so prompt + completion joins as words;
``train_sft`` adds the space when it is missing. TRL appends the end-of-sequence token.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from workbench.atomic import scratch_dir
from workbench.progress import Progress, silent
from workbench.runtime import resolve_device
from workbench.training import TrainingSettings


@dataclass(frozen=True)
class SFTSettings(TrainingSettings):
    """How long and how hard to train (the shared fields: ``workbench.training``). Defaults suit a
    ~1M-parameter model on a CPU; a batch is ``batch_size`` (prompt, completion) pairs; tiny models
    from scratch like ``lr`` 1e-3..3e-3, fine-tuning 1e-4..5e-4."""

    steps: int = 300
    batch_size: int = 32
    lr: float = 3e-3
    warmup: int = 20
    log_every: int = 10
    scheduler: str = "cosine"
    """Any transformers scheduler name: cosine, linear, constant_with_warmup, ..."""
    max_length: int = 256
    """Longer prompt+completion sequences are truncated."""
    completion_only_loss: bool = True
    """Loss on the completion only (default); False also trains on the prompt tokens (more signal per step)."""
    compact_head: bool = True
    """On the CPU, project only the supervised positions through the LM head (``completion_loss``);
    False = TRL's fused head, which scores every position there (kept for comparison: ``make bench``)."""
    batch_softmax: bool = False
    """With the loss on the prompt too (``completion_only_loss=False``): score each *prompt* position
    against only the tokens that are a prompt target somewhere in the batch (an in-batch sampled
    softmax, as retrieval models train), not the whole vocabulary; the completion's positions keep the
    full softmax, since the completion is what evaluation ranks. With 11k Foursquare venue words a
    batch of 32 cases has ~150 distinct targets, so most positions multiply by 150 head columns
    instead of 11k. A frequent token is a negative in more batches, so each logit is corrected by minus
    the log of the chance that its token is among the batch's targets, 1 - (1 - p)^n for a token of
    share p of the training tokens and n prompt positions (the sampling-bias correction of Yi et al.,
    RecSys 2019, for a set of distinct candidates: a token in nearly every batch is not penalised, a
    rare one by about log n p). Uses ``completion_loss`` on every device."""
    batch_negatives: int = 0
    """With ``batch_softmax``: this many vocabulary tokens drawn uniformly each step join the prompt's
    candidate set (the "mixed negative sampling" of Yang et al., WWW 2020), so tokens that are rarely a
    prompt target are still pushed down now and then; the correction then uses the chance of being
    drawn either way. 0 = in-batch targets only."""
    gradient_checkpointing: bool = False
    """TRL turns it on by default; tiny models need no memory saving and train ~25% faster without it
    (the weights come out identical)."""
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.batch_softmax and self.completion_only_loss:
            raise ValueError("SFTSettings.batch_softmax samples the prompt's positions; it needs completion_only_loss=False")
        if self.batch_negatives and not self.batch_softmax:
            raise ValueError("SFTSettings.batch_negatives adds to the batch softmax's candidates; it needs batch_softmax=True")


def bf16_ok(device: torch.device) -> bool:
    """bf16 mixed precision on a CUDA GPU that has it (the weights stay fp32); never on the CPU, where
    TRL's default ``bf16=True`` would be slower and change the numbers."""
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


class _ProgressCallback:
    """Forwards the Trainer's step counter and loss to a workbench progress callback."""

    def __new__(cls, progress: Progress, label: str, steps: int):
        from transformers import TrainerCallback

        class Callback(TrainerCallback):
            def __init__(self) -> None:
                self.loss: float | None = None

            def on_log(self, args, state, control, logs=None, **kwargs):
                if logs and "loss" in logs:
                    self.loss = float(logs["loss"])

            def on_step_end(self, args, state, control, **kwargs):
                loss = f" loss {self.loss:.3f}" if self.loss is not None else ""
                progress(f"{label}: step {state.global_step}/{steps}{loss}", state.global_step / steps)

        return Callback()


def completion_loss(model, inputs: dict, token_share: torch.Tensor | None = None, negatives: int = 0) -> torch.Tensor:
    """Mean next-token loss over the positions whose label is not -100 (the completion's).

    Only those positions go through the LM head. TRL's fused head does the same on GPUs (Triton) but
    elsewhere scores every position and adds per-token entropy and accuracy; with a large vocabulary
    that is most of a CPU step (11k Foursquare venue words: 3.7x slower with the loss on the completion,
    2.2x with the loss on every token; ``make bench``, ``lm`` rows). Same loss as
    ``model(..., labels=...).loss``.

    With ``token_share`` (a [vocab] tensor: each token's share of the training texts' tokens) the
    prompt's positions (attended, label -100) are supervised too, each against only the batch's
    distinct prompt targets, each logit minus the log of the chance that its token is among them
    (``batch_inclusion_logprob``; ``SFTSettings.batch_softmax``), plus ``negatives`` tokens drawn
    uniformly from the vocabulary (``SFTSettings.batch_negatives``); the mean then runs over prompt and
    completion positions alike.
    """
    lm = model.get_base_model() if hasattr(model, "get_base_model") else model  # PEFT: LoRA layers sit inside
    mask = inputs.get("attention_mask")
    hidden = lm.base_model(input_ids=inputs["input_ids"], attention_mask=mask, use_cache=False).last_hidden_state[:, :-1]
    target = inputs["labels"][:, 1:]
    keep = target != -100
    head = lm.get_output_embeddings()
    losses = [torch.nn.functional.cross_entropy(head(hidden[keep]).float(), target[keep], reduction="none")]
    if token_share is not None:
        attended = torch.ones_like(keep) if mask is None else mask[:, 1:].bool()
        prompt = attended & ~keep
        targets = inputs["input_ids"][:, 1:][prompt]
        vocab = token_share.numel()
        drawn = torch.randperm(vocab, device=targets.device)[:negatives] if negatives else targets[:0]
        columns, column = torch.unique(torch.cat([targets, drawn]), return_inverse=True)
        column = column[: targets.numel()]
        logits = torch.nn.functional.linear(hidden[prompt], head.weight[columns],
                                            None if head.bias is None else head.bias[columns]).float()
        logits = logits - batch_inclusion_logprob(token_share.to(logits.device)[columns], targets.numel(),
                                                  drawn.numel() / vocab)
        losses.append(torch.nn.functional.cross_entropy(logits, column, reduction="none"))
    loss = torch.cat(losses)
    # a batch without supervised tokens: a finite zero that still reaches the weights
    return loss.mean() if loss.numel() else loss.sum() * 0.0


def batch_inclusion_logprob(share: torch.Tensor, draws: int, uniform: float = 0.0) -> torch.Tensor:
    """log P(a token is among ``draws`` tokens drawn by ``share``, or among the tokens drawn uniformly,
    each token with chance ``uniform``): log(1 - (1 - share)^draws * (1 - uniform)), per token.

    >>> batch_inclusion_logprob(torch.tensor([0.5, 1e-6]), 100).tolist()  # doctest: +ELLIPSIS
    [0.0, -9.21...]
    >>> batch_inclusion_logprob(torch.tensor([0.5, 1e-6]), 100, uniform=0.1).tolist()  # doctest: +ELLIPSIS
    [0.0, -2.30...]
    """
    share = share.double().clamp(max=1 - 1e-12)
    missed = draws * torch.log1p(-share) + math.log1p(-min(uniform, 1 - 1e-12))
    return torch.log(-torch.expm1(missed)).float()


def last_token_logprobs(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, keep: int,
                        temperature: float = 1.0, entropy: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probabilities of each row's last ``keep`` tokens (and the entropy of the next-token
    distribution there), projecting only those positions through the LM head.

    What TRL's GRPO scores a sampled completion with; on the CPU TRL's fused head projects every
    prompt position too, which with 11k Foursquare venue words was ~half of a GRPO step.
    """
    lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = lm.base_model(input_ids=input_ids, attention_mask=attention_mask,
                           use_cache=False).last_hidden_state[:, -keep - 1 : -1]
    logp = torch.log_softmax(lm.get_output_embeddings()(hidden).float() / temperature, dim=-1)
    chosen = logp.gather(-1, input_ids[:, -keep:].unsqueeze(-1)).squeeze(-1)
    return chosen, (-(logp.exp() * logp).sum(-1) if entropy else None)


def _trainer_class(compact_head: bool = True, batch_softmax: bool = False, negatives: int = 0):
    """TRL's ``SFTTrainer`` with ``completion_loss`` on a single CPU process (elsewhere TRL's own) or
    wherever ``batch_softmax`` is on. It skips TRL's per-step token accuracy and entropy: an argmax over
    the vocabulary at every position is ~7% of a Foursquare step, and nothing here reads them."""
    from trl import SFTTrainer

    if not compact_head and not batch_softmax:
        return SFTTrainer

    class Trainer(SFTTrainer):
        token_share: torch.Tensor | None = None

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            elsewhere = self.args.device.type != "cpu" or self.accelerator.num_processes > 1
            if return_outputs or (elsewhere and not batch_softmax):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            if batch_softmax and self.token_share is None:  # counted once, over every training text
                ids = torch.tensor([i for row in self.train_dataset["input_ids"] for i in row])
                counts = torch.bincount(ids, minlength=model.get_output_embeddings().weight.shape[0])
                self.token_share = counts.float().clamp(min=1.0) / len(ids)
            return completion_loss(model, inputs, self.token_share, negatives)  # share: None unless batch_softmax

    return Trainer


def prepare_pairs(tokenizer, rows: Sequence[dict], max_length: int, completion_only: bool):
    """TRL's preparation of a prompt-completion dataset, done in batches: the same ``input_ids`` and
    ``labels`` as ``SFTTrainer._prepare_dataset`` (end-of-sequence appended to the completion, prompt and
    prompt + completion tokenized, the completion starting where the two diverge, labels -100 on the
    prompt when ``completion_only``, truncated to ``max_length`` keeping the start, rows left without a
    supervised token dropped), in the same order, so training draws the same batches.

    TRL maps the rows one at a time through five dataset passes; for a tiny model that costs more than
    the training itself (65 of 93 CPU s of 200 steps over a needs curriculum of 3 x 12,000 pairs). The
    fast tokenizer's batch call gives the same ids (``tests/lm``: equal to TRL's own preparation).
    """
    import datasets
    from trl.data_utils import common_prefix_length

    eos = tokenizer.eos_token
    prompts = [r["prompt"] for r in rows]
    completions = [c if c.endswith(eos) else c + eos for c in (r["completion"] for r in rows)]
    prompt_ids = tokenizer(prompts)["input_ids"]
    full_ids = tokenizer([p + c for p, c in zip(prompts, completions)])["input_ids"]
    input_ids, labels = [], []
    for prompt, ids in zip(prompt_ids, full_ids):
        start = common_prefix_length(prompt, ids) if completion_only else 0
        label = ([-100] * start + ids[start:])[:max_length]
        if any(t != -100 for t in label):
            input_ids.append(ids[:max_length])
            labels.append(label)
    return datasets.Dataset.from_dict({"input_ids": input_ids, "labels": labels})


def train_sft(
    model,
    tokenizer,
    pairs: Sequence[tuple[str, str]],
    settings: SFTSettings = SFTSettings(),
    progress: Progress | None = None,
    label: str = "SFT",
) -> list[dict[str, float]]:
    """Train ``model`` in place on ``(prompt, completion)`` pairs; return the loss curve
    ``[{"step": s, "loss": l}, ...]``. The model is left in eval mode on its training device."""
    import datasets
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig

    if not pairs:
        raise ValueError("train_sft needs at least one (prompt, completion) pair")
    datasets.disable_progress_bars()
    logging.getLogger("transformers.trainer").setLevel(logging.WARNING)
    rows = [{"prompt": p, "completion": c if c.startswith(" ") else " " + c} for p, c in pairs]
    device = resolve_device(settings.device)
    warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*", category=FutureWarning)
    with scratch_dir("workbench-sft-") as out:  # the job's folder in a build (see workbench.atomic)
        args = SFTConfig(
            output_dir=str(out),
            max_steps=settings.steps,
            per_device_train_batch_size=settings.batch_size,
            learning_rate=settings.lr,
            lr_scheduler_type=settings.scheduler,
            warmup_steps=min(settings.warmup, max(settings.steps - 1, 0)),
            weight_decay=settings.weight_decay,
            max_length=settings.max_length,
            completion_only_loss=settings.completion_only_loss or settings.batch_softmax,
            logging_steps=settings.log_every,
            save_strategy="no",
            report_to=[],
            use_cpu=device.type == "cpu",
            bf16=bf16_ok(device),
            disable_tqdm=True,
            dataloader_num_workers=0,
            gradient_checkpointing=settings.gradient_checkpointing,
            seed=settings.seed,
            data_seed=settings.seed,
            dataset_kwargs={"skip_prepare_dataset": True},  # prepared here, in batches (``prepare_pairs``)
        )
        # batch_softmax scores the prompt itself (completion_loss); TRL's labels mark the completion
        completion_only = settings.completion_only_loss or settings.batch_softmax
        trainer = _trainer_class(settings.compact_head, settings.batch_softmax, settings.batch_negatives)(
            model=model,
            args=args,
            train_dataset=prepare_pairs(tokenizer, rows, settings.max_length, completion_only),
            processing_class=tokenizer,
            callbacks=[_ProgressCallback(progress or silent, label, settings.steps)],
        )
        trainer.remove_callback(PrinterCallback)  # progress goes through our callback, not print()
        trainer.train()
    # TRL patches `forward` onto the model instance (a fused LM-head forward whose closure holds the
    # original bound method). A deepcopy of the trained model would keep running the ORIGINAL model's
    # forward, so drop the patch: the model is a plain transformers model again.
    for module in (model, model.get_base_model() if hasattr(model, "get_base_model") else None):
        if module is not None:
            module.__dict__.pop("forward", None)
    model.eval()
    return [{"step": int(h["step"]), "loss": float(h["loss"])} for h in trainer.state.log_history if "loss" in h]


@torch.no_grad()
def sequence_logprobs(
    model,
    tokenizer,
    prompts: Sequence[str],
    completions: Sequence[str],
    batch_size: int = 64,
    add_eos: bool = False,
) -> torch.Tensor:
    """Sum of log-probabilities of each completion's tokens given its prompt (one float per pair).

    Used to rank a candidate set with the model instead of sampling: score every candidate
    completion and sort. ``add_eos`` also scores the end-of-sequence token after the completion.
    """
    device = next(model.parameters()).device
    scores: list[torch.Tensor] = []
    for start in range(0, len(prompts), batch_size):
        chunk_p = prompts[start : start + batch_size]
        chunk_c = completions[start : start + batch_size]
        seqs, comp_lens = [], []
        for p, c in zip(chunk_p, chunk_c, strict=True):
            p_ids = tokenizer(p, add_special_tokens=False)["input_ids"]
            c_ids = tokenizer(c if c.startswith(" ") else " " + c, add_special_tokens=False)["input_ids"]
            if add_eos:
                c_ids = c_ids + [tokenizer.eos_token_id]
            seqs.append(p_ids + c_ids)
            comp_lens.append(len(c_ids))
        width = max(map(len, seqs))
        ids = torch.full((len(seqs), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, s in enumerate(seqs):  # right padding: positions line up with the unpadded forward pass
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        token_lp = logp.gather(-1, ids[:, 1:].to(device).unsqueeze(-1)).squeeze(-1).cpu()
        for i, (s, n) in enumerate(zip(seqs, comp_lens)):
            scores.append(token_lp[i, len(s) - 1 - n : len(s) - 1].sum())
    return torch.stack(scores) if scores else torch.empty(0)
