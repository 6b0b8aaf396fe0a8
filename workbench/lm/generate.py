"""Batched generation, optionally under a grammar constraint.

Constraints plug into transformers' own ``generate(prefix_allowed_tokens_fn=...)``: at each step a
constraint says which token ids may come next given what was generated so far, and every other
logit is masked. Two constraint shapes cover the methods:

- ``TokenTrie``: the output must be one of a fixed set of token sequences (e.g. every real item's
  semantic ID, or every merchant id), followed by end-of-sequence.
- ``Grammar``: a sequence of parts — literal words and choices — where a choice's options may
  depend on what earlier choices produced (``need -> category under that need -> merchants of that
  category``). Every output therefore parses, and every id in it exists.

>>> trie = TokenTrie([[5, 6], [5, 7], [8]], eos_id=2)
>>> trie.allowed([]), trie.allowed([5]), trie.allowed([5, 7])
([5, 8], [6, 7], [2])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from workbench.progress import Progress, track


class TokenTrie:
    """A prefix trie over token-id sequences; ``allowed(prefix)`` lists the ids that may come next."""

    def __init__(self, sequences: Sequence[Sequence[int]], eos_id: int):
        self.eos_id = eos_id
        self.root: dict = {}
        self.size = 0
        for seq in sequences:
            node = self.root
            for tok in seq:
                node = node.setdefault(int(tok), {})
            if None not in node:
                self.size += 1
            node[None] = True  # end marker
        if not self.root:
            raise ValueError("TokenTrie needs at least one non-empty sequence")

    def allowed(self, prefix: Sequence[int]) -> list[int]:
        node = self.root
        for tok in prefix:
            if tok == self.eos_id and None in node:
                return [self.eos_id]
            node = node.get(int(tok))
            if node is None:  # cannot happen under the constraint; end the sequence
                return [self.eos_id]
        nxt = sorted(k for k in node if k is not None)
        if None in node:
            nxt.append(self.eos_id)
        return nxt or [self.eos_id]

    def __contains__(self, seq: Sequence[int]) -> bool:
        node = self.root
        for tok in seq:
            node = node.get(int(tok))
            if node is None:
                return False
        return None in node


Options = Sequence[Sequence[int]]


@dataclass
class Grammar:
    """An output made of parts: ``literal`` token runs and ``choice`` parts.

    A choice's options are token sequences (must be prefix-free, e.g. one word each); they may be a
    function of the options chosen by earlier choice parts (a list of token tuples, in order), called
    once per distinct choice (so it must depend on the choices only). After the last part only
    end-of-sequence is allowed.
    """

    eos_id: int
    parts: list[tuple[str, Options | Callable[[list[tuple[int, ...]]], Options]]] = field(default_factory=list)
    _options: dict = field(default_factory=dict, repr=False, compare=False)
    """Each part's options as tuples of ints, by (part, earlier choices): ``allowed`` runs at every
    decoding step of every beam, and converting the options there was most of its time."""

    def literal(self, ids: Sequence[int]) -> "Grammar":
        self.parts.append(("literal", [tuple(int(i) for i in ids)]))
        return self

    def choice(self, options: Options | Callable[[list[tuple[int, ...]]], Options]) -> "Grammar":
        self.parts.append(("choice", options))
        return self

    def options(self, part: int, chosen: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """Part ``part``'s options after the choices ``chosen``, as tuples of ints."""
        spec = self.parts[part][1]
        key = (part, tuple(chosen)) if callable(spec) else (part,)
        if key not in self._options:
            self._options[key] = [tuple(int(t) for t in o) for o in (spec(chosen) if callable(spec) else spec)]
        return self._options[key]

    def allowed(self, generated: Sequence[int]) -> list[int]:
        pos, chosen = 0, []
        for part, (kind, _) in enumerate(self.parts):
            options = self.options(part, chosen)
            if not options:  # nothing can follow (e.g. an empty candidate set): stop here
                return [self.eos_id]
            depth = 0
            live = options
            while True:
                finished = [o for o in live if len(o) == depth]
                if finished:
                    if kind == "choice":
                        chosen.append(finished[0])
                    break
                if pos + depth >= len(generated):
                    return sorted({o[depth] for o in live})
                tok = generated[pos + depth]
                live = [o for o in live if o[depth] == tok]
                if not live:
                    return [self.eos_id]
                depth += 1
            pos += depth
        return [self.eos_id]


Constraint = TokenTrie | Grammar


@dataclass
class Generations:
    """Decoded outputs (prompt-major when several per prompt) and their generated-token counts."""

    texts: list[str]
    n_tokens: list[int]
    token_ids: list[list[int]]


@torch.no_grad()
def generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int = 32,
    constraint: Constraint | Sequence[Constraint] | None = None,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    num_return_sequences: int = 1,
    num_beams: int = 1,
    batch_size: int = 64,
    seed: int | None = None,
    progress: Progress | None = None,
) -> Generations:
    """Generate completions for ``prompts`` (left-padded batches, KV cache on).

    ``constraint`` is one constraint for all prompts or one per prompt. Token counts exclude padding
    and the end-of-sequence token.
    """
    if seed is not None:
        torch.manual_seed(seed)
    device = next(model.parameters()).device
    per_prompt = constraint if isinstance(constraint, (list, tuple)) else None
    if per_prompt is not None and len(per_prompt) != len(prompts):
        raise ValueError("give one constraint per prompt, or a single one for all")
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    texts, counts, all_ids = [], [], []
    batches = range(0, len(prompts), batch_size)
    for start in track(batches, progress, "generating", total=len(batches)):
        chunk = list(prompts[start : start + batch_size])
        enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
        width = enc["input_ids"].shape[1]
        kwargs = {}
        if constraint is not None:
            def allowed(batch_id: int, ids: torch.Tensor, _start=start, _width=width) -> list[int]:
                c = per_prompt[_start + batch_id] if per_prompt is not None else constraint
                return c.allowed(ids[_width:].tolist())

            kwargs["prefix_allowed_tokens_fn"] = allowed
        sampling = dict(do_sample=True, temperature=temperature, top_p=top_p) if do_sample else dict(do_sample=False)
        out = model.generate(
            input_ids=enc["input_ids"].to(device),
            attention_mask=enc["attention_mask"].to(device),
            max_new_tokens=max_new_tokens,
            num_return_sequences=num_return_sequences,
            num_beams=num_beams,
            pad_token_id=pad,
            eos_token_id=eos,
            **sampling,
            **kwargs,
        )
        for row in out[:, width:].tolist():
            ids = []
            for t in row:
                if t == eos:
                    break
                if t != pad:
                    ids.append(t)
            all_ids.append(ids)
            counts.append(len(ids))
            texts.append(tokenizer.decode(ids, skip_special_tokens=True))
    return Generations(texts=texts, n_tokens=counts, token_ids=all_ids)
