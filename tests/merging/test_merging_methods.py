"""The merge-method registry: properties (hypothesis), validation, and agreement with peft's kernels."""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import WorkbenchError
from workbench.merging import merge_methods as methods
from workbench.merging.merge_methods import REGISTRY, elect_and_merge, merge, trim_by_magnitude

shapes = st.sampled_from([(7,), (3, 5), (4, 2, 3), (1,)])
strengths = st.floats(0.0, 1.0, allow_nan=False)
seeds = st.integers(0, 2**31 - 1)


def tensors(shape, seed, n=3):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=g) for _ in range(n)]


# ---- properties -----------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=seeds)
@pytest.mark.parametrize("name", ["linear", "slerp", "task_arithmetic"])
def test_endpoints_reproduce_the_parents(name, shape, seed):
    a, b, base = tensors(shape, seed)
    assert REGISTRY[name].exact_endpoints
    torch.testing.assert_close(merge(name, a, b, base, strength=1.0), a, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(merge(name, a, b, base, strength=0.0), b, atol=1e-6, rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=seeds, s=strengths)
def test_linear_is_symmetric(shape, seed, s):
    a, b, _ = tensors(shape, seed)
    torch.testing.assert_close(merge("linear", a, b, strength=s), merge("linear", b, a, strength=1 - s))


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=seeds, s=strengths, scale=st.floats(0.1, 10.0))
def test_slerp_of_parallel_tensors_is_linear(shape, seed, s, scale):
    a, _, _ = tensors(shape, seed)
    b = a * scale
    torch.testing.assert_close(merge("slerp", a, b, strength=s), merge("linear", a, b, strength=s))


@settings(max_examples=40, deadline=None)
@given(seed=seeds, s=strengths)
def test_slerp_keeps_the_norm_of_unit_tensors_and_differs_from_linear_for_wide_angles(seed, s):
    a, b, _ = tensors((64,), seed)
    a, b = a / a.norm(), b / b.norm()
    out = merge("slerp", a, b, strength=s)
    assert abs(float(out.norm()) - 1.0) < 1e-4  # on the unit sphere, unlike the linear chord
    if 0.2 < s < 0.8 and abs(float(a @ b)) < 0.9:
        assert float(merge("linear", a, b, strength=s).norm()) < 0.999


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=seeds, s=strengths)
def test_task_arithmetic_with_weights_summing_to_one_is_linear(shape, seed, s):
    a, b, base = tensors(shape, seed)
    torch.testing.assert_close(merge("task_arithmetic", a, b, base, strength=s), merge("linear", a, b, strength=s),
                               atol=1e-5, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=seeds, s=strengths)
@pytest.mark.parametrize("name", ["ties", "dare_linear", "dare_ties", "magnitude_prune"])
def test_density_one_with_agreeing_signs_is_task_arithmetic(name, shape, seed, s):
    """What TIES/DARE promise: with nothing trimmed or dropped and no sign conflict they are task arithmetic."""
    a, b, base = tensors(shape, seed)
    b = base + (a - base).sign() * (b - base).abs()  # the two task vectors agree in sign everywhere
    expected = merge("task_arithmetic", a, b, base, strength=s)
    torch.testing.assert_close(merge(name, a, b, base, strength=s, density=1.0), expected, atol=1e-5, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, density=st.floats(0.1, 1.0))
def test_ties_at_strength_one_is_the_trimmed_parent(seed, density):
    a, b, base = tensors((50,), seed)
    out = merge("ties", a, b, base, strength=1.0, density=density)
    torch.testing.assert_close(out, base + trim_by_magnitude(a - base, density))
    kept = int((out - base != 0).sum())
    assert kept == max(1, int(density * 50))


def test_ties_elects_the_sign_of_the_weighted_sum():
    base = torch.zeros(3)
    a = torch.tensor([2.0, -1.0, 1.0])
    b = torch.tensor([-1.0, 3.0, 1.0])
    out = merge("ties", a, b, base, strength=0.5, density=1.0)
    # entry 0: +2 vs -1 -> "+" wins, only a counts -> 2; entry 1: -1 vs +3 -> "+" -> 3; entry 2: both agree -> 1
    torch.testing.assert_close(out, torch.tensor([2.0, 3.0, 1.0]))


def test_dare_is_seeded():
    a, b, base = tensors((200,), 1)
    first = merge("dare_linear", a, b, base, strength=0.3, density=0.5, seed=7)
    again = merge("dare_linear", a, b, base, strength=0.3, density=0.5, seed=7)
    other = merge("dare_linear", a, b, base, strength=0.3, density=0.5, seed=8)
    assert torch.equal(first, again) and not torch.equal(first, other)
    kept = float(((first - base) != 0).float().mean())
    assert 0.6 < kept < 0.9  # 1 - 0.5^2 = 0.75 of the entries survive in at least one task vector


def test_dare_is_unbiased_in_expectation():
    a, b, base = tensors((400,), 2)
    s, density, n = 0.3, 0.4, 600
    draws = torch.stack([merge("dare_linear", a, b, base, strength=s, density=density, seed=i) for i in range(n)])
    expected = merge("task_arithmetic", a, b, base, strength=s)
    tau_var = ((1 - density) / density) * (s**2 * (a - base) ** 2 + (1 - s) ** 2 * (b - base) ** 2)
    z = (draws.mean(0) - expected) / (tau_var / n).sqrt()
    assert float(z.abs().max()) < 5.0  # per entry within 5 standard errors
    assert abs(float(z.mean())) < 0.2  # and no bias overall (400 entries: the mean z has sd 0.05)


# ---- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(name="linear", strength=1.2), "strength=1.2 is outside [0, 1]"),
    (dict(name="slerp", strength=-0.1), "strength=-0.1 is outside [0, 1]"),
    (dict(name="slerp", strength=float("nan")), "is outside [0, 1]"),
    (dict(name="ties", strength=0.5, density=0.0), "density=0.0 is outside (0, 1]"),
    (dict(name="dare_ties", strength=0.5, density=1.5), "density=1.5 is outside (0, 1]"),
    (dict(name="nosuch", strength=0.5), "Unknown merge method 'nosuch'"),
])
def test_bad_parameters_get_one_clear_error(kwargs, message):
    a, b, base = tensors((4,), 0)
    name = kwargs.pop("name")
    with pytest.raises(WorkbenchError, match=".*") as err:
        merge(name, a, b, base, **kwargs)
    assert message in str(err.value) and len(str(err.value).splitlines()) == 1


def test_mismatched_shapes_and_missing_base_are_clear_errors():
    with pytest.raises(WorkbenchError, match="shapes \\(3,\\) vs \\(4,\\) differ"):
        merge("linear", torch.zeros(3), torch.zeros(4), strength=0.5, name="w")
    with pytest.raises(WorkbenchError, match="needs the shared base"):
        merge("ties", torch.zeros(3), torch.zeros(3), strength=0.5, density=0.5)
    with pytest.raises(WorkbenchError, match="not floating point"):
        merge("linear", torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.long), strength=0.5)


def test_every_method_states_its_convention():
    assert set(REGISTRY) == {"linear", "slerp", "task_arithmetic", "ties", "dare_linear", "dare_ties", "magnitude_prune",
                             "low_rank", "low_rank_ties", "activation_informed"}
    for spec in REGISTRY.values():
        assert len(spec.doc) > 60 and "strength" in methods.__doc__
        assert spec.name in methods.__doc__  # a row of the module's table
    assert {n for n, s in REGISTRY.items() if s.exact_endpoints} == {"linear", "slerp", "task_arithmetic",
                                                                      "activation_informed"}
    assert {n for n, s in REGISTRY.items() if s.stochastic} == {"dare_linear", "dare_ties"}
    assert {n for n, s in REGISTRY.items() if s.calibrated} == {"activation_informed"}


# ---- composition: sparsification x consensus ---------------------------------------------------------
@pytest.mark.parametrize("name, sparsification, consensus", [
    ("ties", "magnitude", "sign"), ("dare_linear", "random", "none"), ("dare_ties", "random", "sign"),
    ("magnitude_prune", "magnitude", "none"), ("low_rank", "svd", "none"), ("low_rank_ties", "svd", "sign")])
def test_task_vector_variants_are_compositions(name, sparsification, consensus):
    fn = REGISTRY[name].fn
    assert (fn.sparsification, fn.consensus) == (sparsification, consensus)
    a, b, base = tensors((6, 5), 11)
    gen = lambda: torch.Generator().manual_seed(4)  # noqa: E731
    thin = lambda t, g: methods.SPARSIFIERS[sparsification](t, 0.4, g)  # noqa: E731
    g = gen()
    ta, tb = thin(a - base, g), thin(b - base, g)
    expected = (base + elect_and_merge([ta, tb], [0.3, 0.7]) if consensus == "sign" else base + 0.3 * ta + 0.7 * tb)
    kwargs = {"generator": gen()} if REGISTRY[name].stochastic else {}
    assert torch.equal(fn(a, b, base, strength=0.3, density=0.4, **kwargs), expected)


def test_an_unknown_composition_is_refused():
    with pytest.raises(ValueError, match="unknown composition"):
        methods.composed("x", "nosuch", "none", "doc")


# ---- low rank ------------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(seed=seeds, s=strengths, density=st.sampled_from([0.2, 0.5, 0.75]))
@pytest.mark.parametrize("shape", [(8, 6), (5, 9), (7,)])
def test_low_rank_endpoints_are_the_low_rank_parents_and_linear_in_between(shape, seed, s, density):
    a, b, base = tensors(shape, seed)
    at_a = merge("low_rank", a, b, base, strength=1.0, density=density)
    at_b = merge("low_rank", a, b, base, strength=0.0, density=density)
    torch.testing.assert_close(at_a, base + methods.low_rank(a - base, density), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(at_b, base + methods.low_rank(b - base, density), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(merge("low_rank", a, b, base, strength=s, density=density),
                               s * at_a + (1 - s) * at_b, atol=1e-5, rtol=1e-5)
    if len(shape) == 2:  # a matrix keeps max(1, int(density * min(shape))) singular directions
        rank = torch.linalg.matrix_rank(at_a - base).item()
        assert rank <= max(1, int(density * min(shape)))
    else:  # a vector has no singular directions: kept whole
        torch.testing.assert_close(at_a, a, atol=1e-6, rtol=1e-6)


def test_low_rank_at_full_density_is_task_arithmetic():
    a, b, base = tensors((9, 7), 2)
    torch.testing.assert_close(merge("low_rank", a, b, base, strength=0.4, density=1.0),
                               merge("task_arithmetic", a, b, base, strength=0.4), atol=1e-6, rtol=1e-6)


def test_low_rank_keeps_the_best_approximation():
    tau = torch.diag(torch.tensor([5.0, 3.0, 1.0]))
    torch.testing.assert_close(methods.low_rank(tau, 0.67), torch.diag(torch.tensor([5.0, 3.0, 0.0])))


# ---- activation-informed ------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=seeds, w=st.floats(0.2, 3.0))
def test_activation_informed_endpoints_are_exact_for_any_layer_weight(shape, seed, w):
    a, b, _ = tensors(shape, seed)
    assert torch.equal(merge("activation_informed", a, b, strength=1.0, layer_weight=w), a)
    assert torch.equal(merge("activation_informed", a, b, strength=0.0, layer_weight=w), b)


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=seeds, s=strengths)
def test_activation_informed_with_unit_weight_is_linear(shape, seed, s):
    a, b, _ = tensors(shape, seed)
    assert torch.equal(merge("activation_informed", a, b, strength=s, layer_weight=1.0), merge("linear", a, b, strength=s))


def test_a_heavier_layer_moves_toward_a_faster():
    strengths_at = [methods.layer_strength(0.2, w) for w in (0.5, 1.0, 2.0)]
    assert strengths_at == sorted(strengths_at) and strengths_at[1] == 0.2
    assert methods.layer_strength(0.01, 2.0) == pytest.approx(0.02, rel=0.01)  # ≈ w * s near the thinking end


# ---- the same bits for any thread count ---------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_method_gives_the_same_bits_on_1_and_2_threads(name):
    a, b, base = tensors((192, 160), 9)
    before = torch.get_num_threads()
    out = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            out.append(merge(name, a, b, base, strength=0.3, density=0.5, seed=1,
                             **({"layer_weight": 1.7} if REGISTRY[name].calibrated else {})))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(out[0], out[1])


def test_output_keeps_the_dtype_of_a():
    a, b, base = (t.to(torch.bfloat16) for t in tensors((8,), 3))
    assert merge("slerp", a, b, strength=0.3).dtype == torch.bfloat16
    assert merge("ties", a, b, base, strength=0.3, density=0.5).dtype == torch.bfloat16


# ---- peft -----------------------------------------------------------------------------------------
peft_merge = pytest.importorskip("peft.utils.merge_utils")


def taus_of(a, b, base):
    return [a - base, b - base]


@settings(max_examples=25, deadline=None)
@given(seed=seeds, s=strengths)
def test_task_arithmetic_matches_peft(seed, s):
    a, b, base = tensors((6, 5), seed)
    ours = merge("task_arithmetic", a, b, base, strength=s)
    theirs = base + peft_merge.task_arithmetic(taus_of(a, b, base), torch.tensor([s, 1 - s]))
    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, s=strengths, density=st.floats(0.1, 0.95))
def test_magnitude_prune_matches_peft(seed, s, density):
    a, b, base = tensors((6, 5), seed)
    ours = merge("magnitude_prune", a, b, base, strength=s, density=density)
    theirs = base + peft_merge.magnitude_prune(taus_of(a, b, base), torch.tensor([s, 1 - s]), density)
    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, density=st.floats(0.1, 0.95))
def test_ties_matches_peft_where_the_conventions_coincide(seed, density):
    """Equal weights: our TIES at strength 0.5 (weights 0.5/0.5, normalised by the agreeing weights)
    equals peft's TIES with weights 1/1 (normalised by the agreeing count)."""
    a, b, base = tensors((6, 5), seed)
    ours = merge("ties", a, b, base, strength=0.5, density=density)
    theirs = base + peft_merge.ties(taus_of(a, b, base), torch.tensor([1.0, 1.0]), density)
    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, s=st.floats(0.05, 0.45), density=st.floats(0.1, 0.95))
def test_ties_differs_from_peft_as_documented_for_unequal_weights(seed, s, density):
    """Unequal weights: peft elects on the unweighted sum and divides by the count; ``convention='peft'``
    reproduces it exactly, and our default (mergekit's) differs."""
    a, b, base = tensors((6, 5), seed)
    theirs = base + peft_merge.ties(taus_of(a, b, base), torch.tensor([s, 1 - s]), density)
    as_peft = merge("ties", a, b, base, strength=s, density=density, convention="peft")
    torch.testing.assert_close(as_peft, theirs, atol=1e-6, rtol=1e-5)
    ours = merge("ties", a, b, base, strength=s, density=density)
    assert not torch.allclose(ours, theirs, atol=1e-4)
    # the documented reason: where only one task vector survives, ours keeps its full value,
    # peft keeps weight x value
    trimmed = [trim_by_magnitude(t, density) for t in taus_of(a, b, base)]
    only_b = (trimmed[0] == 0) & (trimmed[1] != 0)
    torch.testing.assert_close((ours - base)[only_b], trimmed[1][only_b])
    torch.testing.assert_close((theirs - base)[only_b], (1 - s) * trimmed[1][only_b])


def test_dare_rescale_convention_matches_peft():
    """Both rescale kept entries by 1/density (mergekit instead matches the L1 norm; see the mergekit test)."""
    a, b, base = tensors((2000,), 5)
    density = 0.3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = peft_merge.dare_linear([a - base], torch.tensor([1.0]), density)
    ours = merge("dare_linear", a, base.clone(), base, strength=1.0, density=density, seed=0) - base
    for out in (ours, theirs):
        kept = out != 0
        torch.testing.assert_close(out[kept], (a - base)[kept] / density)
        assert abs(float(kept.float().mean()) - density) < 0.05
    # at density 1 both are plain task arithmetic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = peft_merge.dare_ties(taus_of(a, b, base), torch.tensor([1.0, 1.0]), 1.0)
    torch.testing.assert_close(merge("dare_ties", a, b, base, strength=0.5, density=1.0), base + full, atol=1e-6, rtol=1e-5)


def test_elect_and_merge_conventions_agree_for_unit_weights():
    taus = tensors((30,), 9, n=2)
    torch.testing.assert_close(elect_and_merge(taus, [1.0, 1.0], "mergekit"), elect_and_merge(taus, [1.0, 1.0], "peft"))
