"""The A4 phantom: deterministic, A4-like bimodal SUVR, regions recomputable from the volume."""

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from supremix.data.phantoms import write_phantom
from supremix.data.phantoms.amyloid_pet import REGIONS, regional_uptake, template_labels

SIZE = 20


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_phantom("a4", tmp_path_factory.mktemp("pet"), n=60, size=SIZE, seed=11)


@pytest.fixture(scope="module")
def table(root):
    return pd.read_csv(root / "imaging_SUVR_amyloid.csv")


def test_same_seed_same_files(tmp_path):
    a = write_phantom("a4", tmp_path / "a", n=3, size=12, seed=1)
    b = write_phantom("a4", tmp_path / "b", n=3, size=12, seed=1)
    c = write_phantom("a4", tmp_path / "c", n=3, size=12, seed=2)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert files != sorted(p.relative_to(c) for p in c.rglob("*") if p.is_file())
    with pytest.raises(ValueError, match="size must be >= 12"):
        write_phantom("a4", tmp_path / "d", n=1, size=10)


def test_table_is_long_with_every_region_and_the_composite(table):
    assert list(table.columns) == [
        "BID",
        "VISCODE",
        "brain_region",
        "suvr_cer",
        "suvr_persi",
        "suvr_crus",
    ]
    assert set(table["brain_region"]) == {*REGIONS, "Composite_Summary"}
    assert (table.groupby("BID").size() == 7).all() and (table["VISCODE"] == 2).all()


def test_suvr_is_bimodal_in_the_a4_range(table):
    suvr = table.loc[table["brain_region"] == "Composite_Summary", "suvr_cer"]
    assert suvr.between(0.7, 2.1).all()
    positive = suvr > 1.15
    assert 0.1 < positive.mean() < 0.45
    assert abs(suvr[~positive].mean() - 0.99) < 0.06 and suvr[positive].mean() > 1.25


def test_regional_suvr_is_recomputed_from_the_pet_volume(root, table):
    """Regional rows are measured on the volume exactly; the composite adds the pipeline's
    error (tests/data/test_phantom_label_noise.py checks its size)."""
    labels, core = template_labels(SIZE)
    for (bid, region), value in table.set_index(["BID", "brain_region"])["suvr_cer"].items():
        path = root / "NII" / bid / "002" / "FBP" / f"A4_PET_FBP_{bid}_002.nii.gz"
        volume = nib.load(path).get_fdata().mean(axis=3)
        reference = volume[core & (labels == 9)].mean()
        if region == "Composite_Summary":
            cortex = volume[(labels >= 1) & (labels <= 7)].mean() / volume[labels == 9].mean()
            assert cortex == pytest.approx(value, abs=0.25)
            continue
        target = volume[core & (labels == REGIONS.index(region) + 1)]
        assert target.mean() / reference == pytest.approx(value, rel=1e-5)


def test_regional_uptake_is_staged_non_linearly():
    low, mid, high = regional_uptake(0.9), regional_uptake(1.3), regional_uptake(1.8)
    precuneus, temporal = REGIONS.index("lprecuneus_gm"), REGIONS.index("new_temporal_2")
    assert low[precuneus] < 1 and high[precuneus] > mid[precuneus] > 1
    # the late region lags at 1.3 and catches up at 1.8
    assert mid[temporal] - 1 < 0.5 * (mid[precuneus] - 1)
    assert high[temporal] - 1 > 0.9 * (high[precuneus] - 1)
    burdens = np.linspace(0.7, 1.9, 25)
    slopes = np.diff([regional_uptake(b)[temporal] for b in burdens])
    assert stats.spearmanr(burdens[1:], slopes).statistic > 0.5
