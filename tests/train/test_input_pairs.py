"""SupReMix's pairs mixed at the input (App. D.6): checked against direct loops."""

from __future__ import annotations

import pytest
import torch
from train_testkit import toy_config, toy_splits

from supremix.train.input_pairs import input_level_pairs
from supremix.train.protocols import plan_stages


def _batch(seed: int, n: int = 24):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 12, (n,), generator=g).to(torch.float64)
    groups = torch.randint(0, 2, (n,), generator=g)
    return torch.eye(n, dtype=torch.float64), y, groups  # one-hot inputs reveal the partners


@pytest.mark.parametrize("inclusive", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mixtures_are_the_papers_mix_neg_and_mix_pos_of_each_anchor(seed, inclusive):
    x, y, groups = _batch(seed)
    n, window = len(y), 2.0
    new_x, new_y, new_groups = input_level_pairs(
        x, y, window=window, alpha=2.0, beta=8.0, inclusive=inclusive, groups=groups,
        generator=torch.Generator().manual_seed(seed),
    )  # fmt: skip
    assert torch.equal(new_x[:n], x) and torch.equal(new_y[:n], y)

    def near(a, b):
        return abs(y[b] - y[a]) <= window if inclusive else abs(y[b] - y[a]) < window

    has_neg = [
        a for a in range(n) if any(y[b] != y[a] and groups[b] == groups[a] for b in range(n))
    ]
    has_pos = [
        a
        for a in range(n)
        if any(y[b] < y[a] and near(a, b) and groups[b] == groups[a] for b in range(n))
        and any(y[b] > y[a] and near(a, b) and groups[b] == groups[a] for b in range(n))
    ]
    assert len(new_y) == n + len(has_neg) + len(has_pos)
    for row, a in zip(range(n, n + len(has_neg)), has_neg, strict=True):
        weights = new_x[row]
        partner = [b for b in torch.nonzero(weights).flatten().tolist() if b != a]
        (b,) = partner
        assert y[b] != y[a] and groups[b] == groups[a] == new_groups[row]
        lam = weights[a]
        assert 0 < lam < 1 and new_y[row] == pytest.approx(lam * y[a] + (1 - lam) * y[b])
    for row, a in zip(range(n + len(has_neg), len(new_y)), has_pos, strict=True):
        j, k = torch.nonzero(new_x[row]).flatten().tolist()
        j, k = (j, k) if y[j] < y[k] else (k, j)
        assert y[j] < y[a] < y[k] and near(a, j) and near(a, k)
        assert new_y[row] == y[a]
        assert new_x[row, j] * y[j] + new_x[row, k] * y[k] == pytest.approx(float(y[a]))


def test_input_level_supremix_trains_and_is_refused_where_it_means_nothing(tmp_path):
    from supremix.train import train

    config = toy_config(mix_level="input")
    assert [s.contrastive for s in plan_stages(config)] == [True, False]
    result = train(config, **toy_splits(), out_dir=tmp_path)
    assert result.metrics["test"]["mae"] > 0
    with pytest.raises(ValueError, match="mix_level='input' says where SupReMix mixes"):
        toy_config(method="supcon", mix_level="input")
    with pytest.raises(ValueError, match="multitask protocol shares"):
        toy_config(mix_level="input", protocol="multitask")
