"""The HCP-Aging phantom: deterministic, HCP-like ages, connectivity that changes with age."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from supremix.data.hcp import HCPAgingFMRI
from supremix.data.phantoms import write_phantom
from supremix.data.phantoms.fmri import NETWORKS, SCHAEFER400_SIZES, network_labels


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_phantom("hcp", tmp_path_factory.mktemp("fmri"), n=40, n_timepoints=150, seed=4)


def test_network_labels_have_the_schaefer_400_sizes():
    labels = network_labels(400)
    assert labels.shape == (400,)
    assert tuple(np.bincount(labels)) == SCHAEFER400_SIZES
    assert np.all(np.diff(labels[:200]) >= 0) and np.all(np.diff(labels[200:]) >= 0)
    assert len(NETWORKS) == 7 and np.bincount(network_labels(100)).sum() == 100


def test_same_seed_same_series_other_seed_other_series(tmp_path):
    a = write_phantom("hcp", tmp_path / "a", n=3, n_timepoints=20, seed=1, without_files=0)
    b = write_phantom("hcp", tmp_path / "b", n=3, n_timepoints=20, seed=1, without_files=0)
    c = write_phantom("hcp", tmp_path / "c", n=3, n_timepoints=20, seed=2, without_files=0)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in names)
    assert names != sorted(p.name for p in c.iterdir())


def test_ages_span_hcp_aging_in_whole_months(root):
    table = pd.read_csv(root / "ndar_subject01.txt", sep="\t", skiprows=[1])
    months = table["interview_age"]
    assert len(table) == 45 and (months == months.round()).all()
    assert months.min() >= 36 * 12 and months.max() <= 100 * 12
    assert set(table["sex"]) == {"F", "M"}


def network_measures(series, labels):
    corr = np.corrcoef(series)
    same = labels[:, None] == labels[None, :]
    within = corr[same & ~np.eye(len(labels), dtype=bool)].mean()
    means = np.stack([series[labels == k].mean(axis=0) for k in range(labels.max() + 1)])
    between = np.corrcoef(means)[np.triu_indices(len(means), 1)].mean()
    return within, between


def test_within_network_coupling_falls_and_between_network_coupling_rises_with_age(root):
    ds = HCPAgingFMRI(root, "train", val=0, test=0)
    labels = network_labels(400)
    measures = np.array([network_measures(ds.load(i).numpy(), labels) for i in range(len(ds))])
    assert stats.spearmanr(ds.targets, measures[:, 0]).statistic < -0.8
    assert stats.spearmanr(ds.targets, measures[:, 1]).statistic > 0.6
