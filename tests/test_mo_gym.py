"""MO-Gymnasium adapter: offline construction, known fronts, metrics, rollouts, a multi-policy run."""
import math

import moocore
import numpy as np
import pytest
import torch

pytest.importorskip("mo_gymnasium")

from moo.problems.mo_gym import ENVS, MOGymTask, TabularPolicy, multi_policy_front  # noqa: E402


@pytest.mark.parametrize("name", sorted(ENVS))
def test_environments_construct_offline_with_fronts(name):
    task = MOGymTask(name, gamma=0.98 if name == "minecart" else 1.0)
    front = task.pareto_front()
    assert front.shape[1] == task.n_obj and front.shape[0] >= 2
    m = task.metrics(front)
    assert m["hv_ratio"] == pytest.approx(1.0) and m["igd"] == pytest.approx(0.0, abs=1e-12)
    assert m["eu"] == pytest.approx(m["eu_front"])


def test_deep_sea_treasure_front_hypervolume_matches_moocore_and_hand_value():
    task = MOGymTask("deep-sea-treasure")
    front = task.pareto_front().numpy()
    hv = task.metrics(torch.as_tensor(front))["hv"]
    assert math.isclose(hv, moocore.hypervolume(-front, ref=[0.0, 25.0]), rel_tol=1e-12)
    # sum over treasures sorted by value of (t_i - t_{i-1}) * (25 - steps_i)
    t, s = front[:, 0], -front[:, 1]
    order = np.argsort(t)
    hand = float(np.sum(np.diff(np.concatenate([[0.0], t[order]])) * (25 - s[order])))
    assert math.isclose(hv, hand, rel_tol=1e-9)


def test_rollouts_and_greedy_validation():
    task = MOGymTask("deep-sea-treasure", max_steps=20)
    policy = TabularPolicy((11, 11), task.n_actions)
    with torch.no_grad():
        policy.logits[:, 1] = 5.0   # always "down": first treasure (0.7) after one step
    assert task.validate(policy).tolist() == pytest.approx([0.7, -1.0])
    ro = task.sample(policy, task.prompts(2, torch.Generator().manual_seed(0)), 3, torch.Generator().manual_seed(0))
    assert ro.rewards.shape == (2, 3, 2)
    lp = task.log_probs(policy, ro)
    assert lp.shape == ro.actions.shape and bool((lp[~ro.mask] == 0).all())


@pytest.mark.slow
def test_deep_sea_treasure_multi_policy_recovers_90_percent_of_the_front_hv():
    out = multi_policy_front("deep-sea-treasure", n_prefs=11, steps=100, seed=0)
    assert out["metrics"]["hv_ratio"] >= 0.9, out["points"]
