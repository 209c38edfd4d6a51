"""Advantage estimators, weight-update formulas, the cancellation warning and the trainer."""
import math
import warnings

import moocore
import numpy as np
import pytest
import torch

from moo.algorithms.reward_weighting import (DynamicTchebycheff, FixedWeights, GradientWeights,
                                             HypervolumeGuided, RewardWeightingTrainer, Rollouts,
                                             get_estimator, grpo_advantages, kl_k3,
                                             reinforce_advantages, rloo_advantages)
from moo.algorithms.reward_weighting._hv import hv_improvement_max, hypervolume_max
from moo.errors import MooValueError, ShapeError

D = torch.float64


# ---------------------------------------------------------------- advantage estimators
def test_grpo_hand_computed():
    a = grpo_advantages(torch.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]], dtype=D))
    # group 1: mean 2, unbiased std 1; group 2: mean 1/3, std sqrt(1/3)
    s = math.sqrt(1 / 3)
    expected = torch.tensor([[-1.0, 0.0, 1.0], [(2 / 3) / s, -(1 / 3) / s, -(1 / 3) / s]], dtype=D)
    assert torch.allclose(a, expected, atol=1e-5)


def test_rloo_hand_computed():
    a = rloo_advantages(torch.tensor([[1.0, 2.0, 3.0, 6.0]], dtype=D))
    # leave-one-out means: (2+3+6)/3, (1+3+6)/3, (1+2+6)/3, (1+2+3)/3
    expected = torch.tensor([[1 - 11 / 3, 2 - 10 / 3, 3 - 3.0, 6 - 2.0]], dtype=D)
    assert torch.allclose(a, expected)


def test_reinforce_hand_computed():
    r = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=D)
    assert torch.allclose(reinforce_advantages(r, whiten=False), torch.tensor([[-1.5, -0.5], [0.5, 1.5]], dtype=D))
    std = math.sqrt((1.5**2 * 2 + 0.5**2 * 2) / 3)
    assert torch.allclose(reinforce_advantages(r, whiten=True),
                          torch.tensor([[-1.5, -0.5], [0.5, 1.5]], dtype=D) / std, atol=1e-5)


def test_scale_invariance_flags_match_behaviour():
    r = torch.rand(4, 5, generator=torch.Generator().manual_seed(0), dtype=D)
    for name, whiten in (("grpo", True), ("rloo", True), ("reinforce", True), ("reinforce", False)):
        est = get_estimator(name, whiten=whiten)
        same = torch.allclose(est(3.0 * r), est(r), atol=1e-5)
        assert same == est.scale_invariant, (name, whiten)


def test_estimator_errors():
    with pytest.raises(MooValueError, match="estimator must be one of"):
        get_estimator("ppo")
    with pytest.raises(ShapeError, match="K >= 2"):
        grpo_advantages(torch.ones(3, 1))


# ---------------------------------------------------------------- weighting strategies
def test_hv_multiplier_formula_and_buffer():
    assert HypervolumeGuided.multiplier_from(0.0) == 0.5
    assert HypervolumeGuided.multiplier_from(-3.0) == 0.5
    assert math.isclose(HypervolumeGuided.multiplier_from(1.0), 0.5 + 1.5 * math.tanh(1.0))
    s = HypervolumeGuided([0.5, 0.5])
    s.start(torch.tensor([0.0, 0.0]))
    assert s.multiplier == 1.0                      # neutral before the first measurement
    s.observe(1, torch.tensor([0.5, 0.5], dtype=D))          # ΔHV = 0.25
    assert math.isclose(s.multiplier, 0.5 + 1.5 * math.tanh(0.25))
    s.observe(2, torch.tensor([0.4, 0.4], dtype=D))          # dominated: ΔHV = 0, not buffered
    assert s.multiplier == 0.5 and s.buffer.shape[0] == 1
    s.observe(3, torch.tensor([0.6, 0.2], dtype=D))
    # independent check with moocore (minimization of negated points)
    both = -np.array([[0.5, 0.5], [0.6, 0.2]])
    delta = moocore.hypervolume(both, ref=[0.0, 0.0]) - 0.25
    assert math.isclose(s.history[-1]["delta_hv"], delta, rel_tol=1e-9) and math.isclose(delta, 0.02)
    assert s.buffer.shape[0] == 2
    s.observe(4, torch.tensor([0.7, 0.6], dtype=D))          # dominates both: buffer pruned to one point
    assert s.buffer.shape[0] == 1
    assert [h["multiplier"] for h in s.history][:2] == [1.0, pytest.approx(0.5 + 1.5 * math.tanh(0.25))]


def test_hv_scale_changes_the_volume_unit():
    point = torch.tensor([0.6, 0.55, 0.7], dtype=D)
    ref = torch.tensor([0.5, 0.5, 0.5], dtype=D)
    delta = moocore.hypervolume(-point.numpy()[None], ref=-ref.numpy())       # 0.1 * 0.05 * 0.2 = 1e-3
    assert math.isclose(delta, 1e-3, rel_tol=1e-9)
    for scale in (1.0, 1000.0):
        s = HypervolumeGuided([1, 1, 1], hv_scale=scale)
        s.start(ref)
        s.observe(1, point)
        assert math.isclose(s.history[-1]["delta_hv"], delta, rel_tol=1e-9)
        assert math.isclose(s.multiplier, 0.5 + 1.5 * math.tanh(scale * delta), rel_tol=1e-12)
    assert HypervolumeGuided([1, 1, 1]).multiplier_from(1e-3) < 0.502     # rates in [0, 1]: stays ≈ 0.5
    with pytest.raises(MooValueError, match="hv_scale"):
        HypervolumeGuided([1, 1], hv_scale=0.0)


def test_hv_3d_matches_moocore():
    F = torch.rand(12, 3, generator=torch.Generator().manual_seed(1), dtype=D)
    ref = torch.full((3,), 0.1, dtype=D)
    kept = F[(F > ref).all(-1)].numpy()
    assert math.isclose(hypervolume_max(F, ref), moocore.hypervolume(-kept, ref=-ref.numpy()), rel_tol=1e-9)
    assert math.isclose(hv_improvement_max(F[0], F[1:], ref),
                        hypervolume_max(F, ref) - hypervolume_max(F[1:], ref), abs_tol=1e-12)


def test_hv_multiplier_cancellation_warning_and_effect():
    r = torch.rand(3, 4, 2, generator=torch.Generator().manual_seed(2), dtype=D)
    for name, whiten in (("grpo", True), ("reinforce", True)):
        est = get_estimator(name, whiten=whiten)
        with pytest.warns(UserWarning, match="cancels one positive multiplier"):
            HypervolumeGuided([0.5, 0.5], placement="reward").check(est, 2)
        literal = HypervolumeGuided([0.5, 0.5], placement="reward")
        literal.multiplier = 2.0
        base = est(r @ torch.tensor([0.5, 0.5], dtype=D))
        assert torch.allclose(literal.combine(r, est), base, atol=1e-5)       # cancelled
        default = HypervolumeGuided([0.5, 0.5])
        default.multiplier = 2.0
        assert torch.allclose(default.combine(r, est), 2.0 * base)           # takes effect
    for name, whiten in (("rloo", True), ("reinforce", False), ("grpo", True)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            placement = "advantage" if name == "grpo" else "reward"
            HypervolumeGuided([0.5, 0.5], placement=placement).check(get_estimator(name, whiten=whiten), 2)


def test_trainer_emits_cancellation_warning():
    with pytest.warns(UserWarning, match="has no effect"):
        RewardWeightingTrainer(torch.nn.Linear(1, 3), BanditTask(), HypervolumeGuided([0.5, 0.5], placement="reward"),
                               estimator="grpo", device="cpu")


def test_gradient_weight_update_formula():
    g = torch.tensor([[1.0, 0.0, 2.0], [0.5, -1.0, 0.0], [0.0, 0.0, 1.0]], dtype=D)
    s = GradientWeights([0.2, 0.3, 0.5], eta=0.1, lam=0.5)
    w = s.update(g)
    gram = g.numpy() @ g.numpy().T
    influence = gram.sum(1)
    expected = np.array([0.2, 0.3, 0.5]) * np.exp(0.1 * influence / 0.5)
    assert np.allclose(w.numpy(), expected / expected.sum())
    assert math.isclose(float(w.sum()), 1.0)


def test_tchebycheff_scalarization():
    s = DynamicTchebycheff([0.5, 0.5], ideal=[1.0, 1.0], margin=0.0)
    out = s.scalarize(torch.tensor([[[1.0, 0.0], [0.5, 0.5]]], dtype=D))
    assert torch.allclose(out, torch.tensor([[-0.5, -0.25]], dtype=D))
    s.scalarize(torch.tensor([[[2.0, 0.0]]], dtype=D))       # the ideal point only moves up
    assert s.ideal.tolist() == [2.0, 1.0]


def test_fixed_weights_validation():
    assert FixedWeights([2.0, 2.0]).weights.tolist() == [0.5, 0.5]
    with pytest.raises(MooValueError, match="non-negative"):
        FixedWeights([-1.0, 2.0])


def test_kl_k3():
    p = torch.tensor([-1.0, -2.0])
    assert torch.allclose(kl_k3(p, p), torch.zeros(2))
    d = torch.tensor(0.3)
    assert torch.allclose(kl_k3(torch.tensor([0.0]), torch.tensor([0.3])), torch.exp(d) - d - 1)


# ---------------------------------------------------------------- a bandit task for the trainer
class BanditTask:
    """Three arms with vector rewards (1,0), (0,1), (0.6,0.6); a policy is a logit layer."""

    n_obj = 2
    objective_names = ("a", "b")
    R = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.6]], dtype=D)

    def prompts(self, n, generator):
        return n

    def _logits(self, policy):
        return policy(torch.ones(1, 1))[0]

    def sample(self, policy, prompts, group_size, generator):
        probs = torch.softmax(self._logits(policy), -1)
        a = torch.multinomial(probs, prompts * group_size, replacement=True, generator=generator)
        return Rollouts(None, a[:, None], torch.ones(a.numel(), 1, dtype=torch.bool),
                        self.R[a].reshape(prompts, group_size, 2))

    def log_probs(self, policy, rollouts):
        return torch.log_softmax(self._logits(policy), -1)[rollouts.actions]

    def validate(self, policy):
        return torch.softmax(self._logits(policy), -1).double() @ self.R


def _bandit_policy():
    torch.manual_seed(0)
    lin = torch.nn.Linear(1, 3)
    torch.nn.init.zeros_(lin.weight)
    torch.nn.init.zeros_(lin.bias)
    return lin


@pytest.mark.parametrize("estimator", ["grpo", "rloo", "reinforce"])
def test_trainer_fixed_weights_pick_the_scalarized_best_arm(estimator):
    tr = RewardWeightingTrainer(_bandit_policy(), BanditTask(), FixedWeights([0.5, 0.5]), estimator=estimator,
                                lr=0.1, group_size=8, batch_prompts=4, device="cpu", seed=0)
    hist = tr.fit(60)
    assert len(hist) == 61 and hist[0]["step"] == 0
    assert torch.softmax(tr._grad_params()[1].detach(), -1)[2] > 0.8   # arm (0.6, 0.6) wins under w = (.5, .5)
    assert hist[-1]["kl"] > 0


def test_trainer_objective_gradients_feed_the_weight_update():
    task, policy = BanditTask(), _bandit_policy()
    strategy = GradientWeights(n_obj=2, eta=0.1, lam=1.0)
    tr = RewardWeightingTrainer(policy, task, strategy, estimator="rloo", lr=0.1, group_size=4,
                                batch_prompts=2, kl_coef=0.0, device="cpu", seed=3)
    tr.start()
    gen_state = tr.generator.get_state()
    tr.step()
    # recompute by hand: same rollouts, RLOO per objective, d/dlogits of -mean(A log pi)
    g = torch.Generator()
    g.set_state(gen_state)
    probs = torch.full((3,), 1 / 3, dtype=D)
    a = torch.multinomial(probs.float(), 8, replacement=True, generator=g)
    R = task.R[a].reshape(2, 4, 2)
    rows = []
    for i in range(2):
        A = rloo_advantages(R[..., i]).reshape(-1)
        onehot = torch.nn.functional.one_hot(a, 3).double()
        grad_bias = -(A[:, None] * (onehot - probs)).mean(0)
        rows.append(torch.cat([grad_bias, grad_bias]))   # d/dweight = d/dbias (input is 1)
    G = torch.stack(rows)
    w = torch.softmax(torch.log(torch.full((2,), 0.5, dtype=D)) + 0.1 * (G @ G.T).sum(1) / 1.0, 0)
    assert torch.allclose(strategy.weights, w, atol=1e-6)
    assert strategy.history[-1]["weights"] == pytest.approx(w.tolist(), abs=1e-6)


def test_trainer_hv_guided_logs_multipliers():
    tr = RewardWeightingTrainer(_bandit_policy(), BanditTask(), HypervolumeGuided([0.5, 0.5]), estimator="grpo",
                                lr=0.1, device="cpu", seed=0, hv_ref=(0.0, 0.0))
    hist = tr.fit(5)
    mults = [h["multiplier"] for h in hist[1:]]
    assert mults[0] == 1.0 and all(0.5 <= m <= 2.0 for m in mults)
    assert all(h["hv"] >= 0 for h in hist)


def test_trainer_rejects_bad_inputs():
    with pytest.raises(TypeError, match="PolicyTask"):
        RewardWeightingTrainer(_bandit_policy(), object(), FixedWeights([1, 1]), device="cpu")
    with pytest.raises(MooValueError, match="unknown trainer option"):
        RewardWeightingTrainer(_bandit_policy(), BanditTask(), FixedWeights([1, 1]), device="cpu", lrr=1)
    with pytest.raises(ShapeError, match="objectives"):
        RewardWeightingTrainer(_bandit_policy(), BanditTask(), FixedWeights([1, 1, 1]), device="cpu")


def test_protocol_scoring_helpers_by_hand():
    """The reward-weighting protocol's HV of one point, running mean, steps to a target and dominance."""
    from benchmarks.protocols.reward_weighting import dominates, point_hv, running_mean, steps_to_reach

    assert point_hv([0.5, 0.4, 0.2]) == pytest.approx(0.04)  # the box from 0 to the point
    assert point_hv([0.5, 0.0, 0.2]) == 0.0
    objs = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0]])
    assert running_mean(objs, 2).tolist() == [[1.0, 0.0], [2.0, 1.0], [4.0, 3.0]]
    # step 0 is the initial point: a curve that starts above the target has not reached it by training
    assert steps_to_reach([0.9, 0.1, 0.5, 0.8], 0.5) == 2
    assert steps_to_reach([0.9, 0.1, 0.2], 0.5) is None
    assert dominates([1, 2], [1, 1]) and not dominates([1, 1], [1, 1]) and not dominates([2, 0], [1, 1])

