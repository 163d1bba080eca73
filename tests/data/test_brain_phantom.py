"""The UK Biobank phantom: deterministic, UKB-like ages, and anatomy that tracks age."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from supremix.data.phantoms import write_phantom
from supremix.data.phantoms.brain_mri import sample_ages
from supremix.data.ukb import UKBiobankT1


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_phantom("ukb", tmp_path_factory.mktemp("brain"), n=30, size=20, seed=5)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path, root):
    again = write_phantom("ukb", tmp_path / "again", n=30, size=20, seed=5)
    other = write_phantom("ukb", tmp_path / "other", n=30, size=20, seed=6)
    files = sorted(p.name for p in root.iterdir())
    assert files == sorted(p.name for p in again.iterdir())
    assert all((root / f).read_bytes() == (again / f).read_bytes() for f in files)
    assert not set(files) & {p.name for p in other.iterdir()} - {"ukb00000.csv"}


def test_ages_look_like_the_ukb_imaging_visit(root):
    table = pd.read_csv(root / "ukb00000.csv")
    imaged = table["21003-2.0"].dropna()
    assert len(imaged) == 30 and table["21003-2.0"].isna().sum() == 20
    assert imaged.between(45, 82).all() and (imaged == imaged.round()).all()
    large = sample_ages(np.random.default_rng(0), 20_000)
    assert large.min() >= 45 and large.max() <= 82
    assert abs(large.mean() - 64) < 0.5 and 6.5 < large.std() < 7.5
    assert set(table["31-0.0"]) <= {0, 1}


def test_csf_fraction_of_the_written_volumes_rises_with_age(root):
    ds = UKBiobankT1(root, "train", val=0, test=0, spacing=None, crop=None, normalize="none")
    fractions, central = [], []
    for i in range(len(ds)):
        volume = ds.load(i)[0].numpy()
        brain = volume > 0
        dark = brain & (volume < 0.4 * np.median(volume[brain]))
        fractions.append(dark.sum() / brain.sum())
        x, y, z = (s // 4 for s in volume.shape)
        central.append(dark[x:-x, y:-y, z:-z].sum())  # the ventricles sit in the middle
    assert stats.spearmanr(ds.targets, fractions).statistic > 0.8
    assert stats.spearmanr(ds.targets, central).statistic > 0.6
    # accelerating: the CSF fraction rises faster per year above the median age than below it
    ages, f = np.asarray(ds.targets, dtype=float), np.asarray(fractions)
    older = ages >= np.median(ages)
    slope_old = np.polyfit(ages[older], f[older], 1)[0]
    slope_young = np.polyfit(ages[~older], f[~older], 1)[0]
    assert slope_old > slope_young > 0
