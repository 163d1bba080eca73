"""A4 loader: NII tree, long SUVR table (Composite_Summary), frames, visits, errors."""

import re
import shutil

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import torch

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset
from supremix.data.a4 import A4AmyloidPET
from supremix.data.phantoms import write_phantom

RAW = {"spacing": None, "crop": None, "normalize": "none", "canonical": False}
ALL = {"val": 0, "test": 0}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_phantom("a4", tmp_path_factory.mktemp("a4"), n=12, size=12, seed=7)


@pytest.fixture
def copy(tmp_path, root):
    target = tmp_path / "copy"
    shutil.copytree(root, target)
    return target


def composite(table_path, column="suvr_cer"):
    table = pd.read_csv(table_path)
    rows = table[table["brain_region"] == "Composite_Summary"]
    return dict(zip(rows["BID"] + "_00" + rows["VISCODE"].astype(str), rows[column], strict=True))


def test_label_is_the_composite_summary_row_of_the_chosen_reference(root):
    ds = get_dataset("a4", root, "train", size=6, **ALL)
    expected = composite(root / "imaging_SUVR_amyloid.csv")
    assert len(ds) == 12 and ds.groups is None
    assert {i: ds.targets[k] for k, i in enumerate(ds.ids)} == pytest.approx(expected)
    persi = A4AmyloidPET(root, "train", reference="suvr_persi", **ALL)
    assert persi.targets == pytest.approx(
        [composite(root / "imaging_SUVR_amyloid.csv", "suvr_persi")[i] for i in persi.ids]
    )
    assert ds[0]["x"].shape == (1, 6, 6, 6)
    assert ds.source_file(0).name == f"A4_PET_FBP_{ds.ids[0]}.nii.gz"


def test_frames_are_averaged_and_three_d_files_read_as_is(root, tmp_path):
    ds = A4AmyloidPET(root, "train", **RAW, **ALL)
    image = nib.load(ds.source_file(0))
    assert image.shape[3] == 4
    np.testing.assert_allclose(ds.load(0)[0].numpy(), image.get_fdata().mean(axis=3), rtol=1e-6)
    single = write_phantom("a4", tmp_path, n=2, size=12, seed=1, frames=1)
    ds3 = A4AmyloidPET(single, "train", **RAW, **ALL)
    np.testing.assert_allclose(ds3.load(0)[0].numpy(), nib.load(ds3.source_file(0)).get_fdata())


def test_default_preprocessing_resamples_crops_and_divides_by_the_mean(root):
    x = A4AmyloidPET(root, "val").load(0)
    # 12 voxels of 18 mm = 216 mm -> 108 voxels of 2 mm, padded to 128
    assert x.shape == (1, 128, 128, 128)
    assert float(x.mean()) == pytest.approx(1.0, rel=1e-4)
    assert not x[0, :10].any() and x[0, 10:118].any()


def test_subject_split_keeps_every_visit_of_a_subject_together(copy):
    table = pd.read_csv(copy / "imaging_SUVR_amyloid.csv")
    for folder in sorted((copy / "NII").iterdir()):
        bid = folder.name
        later = folder / "004" / "FBP"
        later.mkdir(parents=True)
        shutil.copy(
            folder / "002" / "FBP" / f"A4_PET_FBP_{bid}_002.nii.gz",
            later / f"A4_PET_FBP_{bid}_004.nii.gz",
        )
    extra = table.assign(VISCODE=4, suvr_cer=table["suvr_cer"] + 0.1)
    pd.concat([table, extra]).to_csv(copy / "imaging_SUVR_amyloid.csv", index=False)
    screening = A4AmyloidPET(copy, "train", **ALL)
    assert all(i.endswith("_002") for i in screening.ids) and len(screening) == 12
    parts = {
        s: A4AmyloidPET(copy, s, viscode=None, val=2, test=2) for s in ("train", "val", "test")
    }
    assert [len(p) for p in parts.values()] == [16, 4, 4]
    subjects = [set(p.subjects) for p in parts.values()]
    assert not (subjects[0] & subjects[1] or subjects[0] & subjects[2] or subjects[1] & subjects[2])
    both = parts["val"]
    later = [k for k, i in enumerate(both.ids) if i.endswith("_004")]
    first = [both.ids.index(both.ids[k].replace("_004", "_002")) for k in later]
    assert np.allclose(both.targets[later] - both.targets[first], 0.1, atol=1e-5)
    assert A4AmyloidPET(copy, "val", viscode=None, val=2, test=2).ids == both.ids


def test_table_is_found_in_the_download_folders(copy):
    table = copy / "imaging_SUVR_amyloid.csv"
    (copy / "clinical" / "External Data").mkdir(parents=True)
    table.rename(copy / "clinical" / "External Data" / "imaging_SUVR_amyloid.csv")
    assert len(A4AmyloidPET(copy, **ALL)) == 12
    (copy / "clinical" / "External Data" / "imaging_SUVR_amyloid.csv").rename(
        copy / "A4_PETSUVR_20240101.csv"
    )
    assert A4AmyloidPET(copy, **ALL).table.name == "A4_PETSUVR_20240101.csv"
    shutil.copy(copy / "A4_PETSUVR_20240101.csv", copy / "A4_PETSUVR_20250101.csv")
    with pytest.raises(
        DatasetLayoutError, match=r"several SUVR tables .*; expected one; pass table"
    ):
        A4AmyloidPET(copy)
    assert len(A4AmyloidPET(copy, table="A4_PETSUVR_20250101.csv", **ALL)) == 12


def test_bad_inputs_name_what_was_expected(copy, tmp_path):
    table_path = copy / "imaging_SUVR_amyloid.csv"
    table = pd.read_csv(table_path)
    table.drop(columns="brain_region").to_csv(table_path, index=False)
    with pytest.raises(
        DatasetLayoutError, match=r"lacks column\(s\) brain_region; expected a long"
    ):
        A4AmyloidPET(copy)
    first = table["BID"].iloc[0]
    table[table["BID"] != first].to_csv(table_path, index=False)
    with pytest.raises(DatasetContentError, match=rf"no label in .* for images {first}_002;"):
        A4AmyloidPET(copy)
    skipping = A4AmyloidPET(copy, missing_label="skip", **ALL)
    assert skipping.skipped == [f"{first}_002"] and len(skipping) == 11
    doubled = table.copy()
    doubled.loc[len(doubled)] = [first, 2, "Composite_Summary", 1.9, 1.9, 1.9]
    doubled.to_csv(table_path, index=False)
    with pytest.raises(
        DatasetContentError, match=rf"conflicting Composite_Summary rows for {first}/2"
    ):
        A4AmyloidPET(copy)
    nan = table.copy()
    nan.loc[(nan["BID"] == first) & (nan["brain_region"] == "Composite_Summary"), "suvr_cer"] = (
        np.nan
    )
    nan.to_csv(table_path, index=False)
    with pytest.raises(DatasetContentError, match=rf"non-finite labels for ids {first}_002"):
        A4AmyloidPET(copy, **ALL)
    table_path.unlink()
    with pytest.raises(DatasetLayoutError, match=r"no SUVR table in .*; expected imaging_SUVR"):
        A4AmyloidPET(copy)
    with pytest.raises(DatasetLayoutError, match=r"no NII folder in .*; expected <root>/NII/<BID>"):
        A4AmyloidPET(tmp_path)


def test_unreadable_pet_is_reported_with_its_path(copy):
    ds = A4AmyloidPET(copy, **ALL)
    ds.source_file(3).write_bytes(b"\x1f\x8b broken")
    with pytest.raises(
        DatasetContentError, match=f"unreadable PET {re.escape(str(ds.source_file(3)))}"
    ):
        ds[3]
    assert isinstance(ds[2]["x"], torch.Tensor)
