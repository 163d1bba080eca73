"""UK Biobank loader on phantom data: zips and extracted folders, table, preprocessing, errors."""

import shutil
import zipfile

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import torch

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset
from supremix.data.phantoms import write_phantom
from supremix.data.ukb import SFCN_OPTIONS, UKBiobankT1
from supremix.data.volumeio import center_crop_or_pad

SMALL = {"spacing": None, "crop": None, "size": 8}


@pytest.fixture(scope="module")
def zipped(tmp_path_factory):
    return write_phantom("ukb", tmp_path_factory.mktemp("ukb_zip"), n=20, size=12, seed=3)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    root = tmp_path_factory.mktemp("ukb_extracted")
    return write_phantom("ukb", root, n=20, size=12, seed=3, layout="extracted")


def all_items(root, **options):
    return {s: UKBiobankT1(root, s, **options) for s in ("train", "val", "test")}


def test_items_carry_age_and_sex_of_the_main_table(zipped):
    table = pd.read_csv(zipped / "ukb00000.csv", dtype={"eid": str}).set_index("eid")
    ds = get_dataset("ukb", zipped, "train", **SMALL)
    item = ds[0]
    assert item["x"].shape == (1, 8, 8, 8) and item["x"].dtype == torch.float32
    for i, eid in enumerate(ds.ids):
        assert ds.targets[i] == table.loc[eid, "21003-2.0"]
        assert ds.groups[i] == table.loc[eid, "31-0.0"]
    assert item["id"] == ds.ids[0] and item["group"] == ds.groups[0]


def test_zip_and_extracted_folders_give_the_same_items(zipped, extracted):
    a, b = UKBiobankT1(zipped, "val", **SMALL), UKBiobankT1(extracted, "val", **SMALL)
    assert a.ids == b.ids and np.array_equal(a.targets, b.targets)
    assert a.source_file(0).suffix == ".zip"
    assert b.source_file(0).name == "T1_brain_to_MNI.nii.gz"
    for i in range(len(a)):
        assert torch.equal(a.load(i), b.load(i))


def test_folder_named_by_eid_and_linear_registration(tmp_path, zipped):
    root = write_phantom("ukb", tmp_path, n=6, size=12, seed=3, layout="eid", registration="linear")
    ds = UKBiobankT1(root, "train", registration="linear", val=0, test=0, **SMALL)
    assert len(ds) == 6
    assert ds.source_file(0) == root / ds.ids[0] / "T1" / "T1_brain_linearto_MNI.nii.gz"
    with pytest.raises(DatasetLayoutError, match=r"6 subject folders lack the image: .*_to_MNI"):
        UKBiobankT1(root, "train")


def test_seeded_split_is_deterministic_disjoint_and_complete(zipped):
    parts = all_items(zipped, **SMALL)
    ids = [set(parts[s].ids) for s in parts]
    table = pd.read_csv(zipped / "ukb00000.csv", dtype={"eid": str})
    imaged = set(table["eid"][table["21003-2.0"].notna()])
    assert set.union(*ids) == imaged and sum(map(len, ids)) == len(imaged)
    assert (len(parts["val"]), len(parts["test"])) == (2, 2)
    again = UKBiobankT1(zipped, "test", **SMALL)
    other = [UKBiobankT1(zipped, "test", seed=s, **SMALL).ids for s in range(1, 6)]
    assert again.ids == parts["test"].ids
    assert any(ids_ != parts["test"].ids for ids_ in other)


def test_default_preprocessing_is_2mm_crop_100_zscore(zipped):
    ds = UKBiobankT1(zipped, "val")
    x = ds.load(0)
    assert x.shape == (1, 100, 100, 100)
    assert abs(float(x.mean())) < 1e-4 and abs(float(x.std()) - 1) < 1e-3
    # 12 x 14 x 12 voxels of 15 mm are 180 x 210 x 180 mm: 90 x 105 x 90 voxels of 2 mm
    resampled = UKBiobankT1(zipped, "val", crop=None, normalize="none").load(0)
    assert resampled.shape == (1, 90, 105, 90)
    cropped = center_crop_or_pad(resampled[0], (100, 100, 100))
    torch.testing.assert_close(x[0], (cropped - cropped.mean()) / cropped.std())


def test_crop_and_normalisation_match_a_direct_computation(zipped):
    ds = UKBiobankT1(zipped, "train", spacing=None, crop=(6, 8, 6), normalize="zscore")
    with zipfile.ZipFile(ds.source_file(0)) as archive:
        raw = archive.read("T1/T1_brain_to_MNI.nii.gz")
    path = zipped / "direct.nii.gz"
    path.write_bytes(raw)
    volume = nib.load(path).get_fdata()  # 12 x 14 x 12, RAS already
    crop = volume[3:9, 3:11, 3:9]
    expected = (crop - crop.mean()) / crop.std(ddof=1)
    np.testing.assert_allclose(ds.load(0)[0].numpy(), expected, atol=1e-5)
    mean_norm = UKBiobankT1(zipped, "train", spacing=None, crop=None, normalize="mean")
    np.testing.assert_allclose(mean_norm.load(0)[0].numpy(), volume / volume.mean(), rtol=1e-5)


def test_sfcn_crop_offsets_are_11_13_11():
    volume = np.arange(182 * 218 * 182, dtype=np.float32).reshape(182, 218, 182)
    cropped = center_crop_or_pad(volume, SFCN_OPTIONS["crop"])
    assert cropped.shape == (160, 192, 160)
    assert cropped[0, 0, 0] == volume[11, 13, 11] and cropped[-1, -1, -1] == volume[170, 204, 170]
    padded = center_crop_or_pad(np.ones((3, 4, 5)), (5, 4, 8))
    assert padded.shape == (5, 4, 8) and padded.sum() == 60
    assert padded[0].sum() == 0 and padded[:, :, :1].sum() == 0 and padded[:, :, -2:].sum() == 0


def test_options_name_every_setting_that_changes_load(zipped):
    ds = UKBiobankT1(zipped, "val", **SFCN_OPTIONS, size=8, images=".")
    assert ds.options == {
        "registration": "linear",
        "instance": 2,
        "spacing": 1.0,
        "crop": (160, 192, 160),
        "size": (8, 8, 8),
        "normalize": "mean",
        "canonical": True,
    }


def test_bad_inputs_name_what_was_expected(tmp_path, zipped):
    with pytest.raises(DatasetLayoutError, match=r"is not a folder; expected the dataset root"):
        UKBiobankT1(tmp_path / "absent")
    root = tmp_path / "copy"
    shutil.copytree(zipped, root)
    table = pd.read_csv(root / "ukb00000.csv")
    table.drop(columns="21003-2.0").to_csv(root / "ukb00000.csv", index=False)
    with pytest.raises(
        DatasetLayoutError, match=r"no CSV in .* has the columns eid, 21003-2.0; expected a main-"
    ):
        UKBiobankT1(root)
    with pytest.raises(DatasetLayoutError, match=r"ukb00000.csv lacks column\(s\) 21003-2.0"):
        UKBiobankT1(root, table="ukb00000.csv")
    missing_one = table[table["eid"] != table["eid"].iloc[0]]
    missing_one.to_csv(root / "ukb00000.csv", index=False)
    eid = str(table["eid"].iloc[0])
    with pytest.raises(DatasetContentError, match=f"no label in column 21003-2.0 .* images {eid};"):
        UKBiobankT1(root)
    skipping = UKBiobankT1(root, missing_label="skip", val=0, test=0)
    assert skipping.skipped == [eid] and eid not in skipping.ids and len(skipping) == 19


def test_unreadable_files_are_reported_with_their_path(tmp_path, zipped):
    root = tmp_path / "copy"
    shutil.copytree(zipped, root)
    ds = UKBiobankT1(root, "train", **SMALL)
    ds.source_file(0).write_bytes(b"not a zip")
    with pytest.raises(DatasetContentError, match=f"unreadable zip {ds.source_file(0)}"):
        ds[0]
    with zipfile.ZipFile(ds.source_file(1), "w") as archive:
        archive.writestr("T1/T1.nii.gz", b"")
    with pytest.raises(DatasetContentError, match=r"has no member T1/T1_brain_to_MNI.nii.gz"):
        ds[1]
    with zipfile.ZipFile(ds.source_file(2), "w") as archive:
        archive.writestr("T1/T1_brain_to_MNI.nii.gz", b"\x1f\x8bgarbage")
    with pytest.raises(DatasetContentError, match=r"cannot read NIfTI .*T1_brain_to_MNI.nii.gz"):
        ds[2]


def test_empty_folder_lists_the_accepted_layouts(tmp_path):
    (tmp_path / "ukb.csv").write_text("eid,21003-2.0\n1,50\n")
    with pytest.raises(DatasetLayoutError, match=r"<eid>_20252_2_0.zip, <eid>_20252_2_0/T1/"):
        UKBiobankT1(tmp_path)
