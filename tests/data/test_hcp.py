"""HCP-Aging loader: .npy/.csv/.mat in both orientations, NDA table, length, errors."""

import re
import shutil

import numpy as np
import pandas as pd
import pytest
import scipy.io
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset
from supremix.data.hcp import HCPAgingFMRI, fix_length, orient
from supremix.data.phantoms import write_phantom

ALL = {"val": 0, "test": 0}


def write(root, **options):
    defaults = {"n": 5, "n_timepoints": 24, "seed": 2, "without_files": 2}
    return write_phantom("hcp", root, **{**defaults, **options})


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return write(tmp_path_factory.mktemp("hcp_npy"))


def zscore(a):
    a = a - a.mean(axis=1, keepdims=True)
    return a / a.std(axis=1, keepdims=True)


@pytest.mark.parametrize("file_format", ["npy", "csv", "mat"])
@pytest.mark.parametrize("orientation", ["time_by_roi", "roi_by_time"])
def test_every_format_and_orientation_gives_roi_by_time(
    tmp_path, reference, file_format, orientation
):
    root = write(tmp_path, file_format=file_format, orientation=orientation)
    ds = HCPAgingFMRI(root, "train", **ALL)
    ref = HCPAgingFMRI(reference, "train", **ALL)
    assert ds.ids == ref.ids and len(ds) == 5
    for i in range(len(ds)):
        x = ds[i]["x"]
        assert x.shape == (400, 24) and x.dtype == torch.float32
        raw = np.load(ref.source_file(i))  # T x 400 as written by the npy phantom
        np.testing.assert_allclose(x.numpy(), zscore(raw.T.astype(np.float64)), atol=2e-3)
    explicit = HCPAgingFMRI(root, "train", orientation=orientation, **ALL)
    torch.testing.assert_close(explicit.load(0), ds.load(0))


def test_age_in_years_from_months_and_sex_groups(reference):
    table = pd.read_csv(reference / "ndar_subject01.txt", sep="\t", skiprows=[1])
    table = table.set_index("src_subject_id")
    ds = get_dataset("hcp", reference, "train", **ALL)
    for i, subject in enumerate(ds.ids):
        assert ds.targets[i] == pytest.approx(table.loc[subject, "interview_age"] / 12)
        assert ds.groups[i] == {"F": 0, "M": 1}[table.loc[subject, "sex"]]
    assert len(ds.without_files) == 2 and not set(ds.without_files) & set(ds.ids)


def test_square_series_is_ambiguous_unless_the_orientation_is_given(tmp_path):
    root = write(tmp_path, n=2, n_timepoints=400, without_files=0)
    ds = HCPAgingFMRI(root, "train", **ALL)
    with pytest.raises(DatasetContentError, match=r"400 x 400: time and ROI axes cannot be told"):
        ds.load(0)
    raw = np.load(ds.source_file(0))  # T x 400
    given_ = HCPAgingFMRI(root, "train", orientation="time_by_roi", standardize=False, **ALL)
    np.testing.assert_allclose(given_.load(0).numpy(), raw.T)
    wrong = np.zeros((30, 399))
    with pytest.raises(ValueError, match=r"30 x 399; expected one axis of 400 ROIs"):
        orient(wrong, 400, "auto", "f.npy")
    with pytest.raises(ValueError, match=r"axis 0 should hold 400 ROIs"):
        orient(np.zeros((30, 400)), 400, "roi_by_time", "f.npy")


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12))
def test_fix_length_keeps_the_first_frames_or_pads_zeros(frames, length):
    series = np.arange(3 * frames, dtype=float).reshape(3, frames) + 1
    out = fix_length(series, length)
    assert out.shape == (3, length)
    kept = min(frames, length)
    assert np.array_equal(out[:, :kept], series[:, :kept])
    assert not out[:, kept:].any()


def test_length_option_and_no_standardisation(reference):
    raw = HCPAgingFMRI(reference, "train", standardize=False, **ALL)
    cut = HCPAgingFMRI(reference, "train", standardize=False, length=10, **ALL)
    padded = HCPAgingFMRI(reference, "train", length=30, **ALL)
    np.testing.assert_allclose(cut.load(0).numpy(), raw.load(0).numpy()[:, :10])
    assert padded.load(0).shape == (400, 30) and not padded.load(0)[:, 24:].any()
    assert padded.options["length"] == 30 and padded.options["standardize"] is True


def test_runs_first_or_concatenated(tmp_path):
    root = write(tmp_path, runs=2)
    first = HCPAgingFMRI(root, "train", **ALL)
    both = HCPAgingFMRI(root, "train", runs="concat", **ALL)
    assert first.source_file(0).name.endswith("REST1_AP_Schaefer400.npy")
    x, y = first.load(0), both.load(0)
    assert y.shape == (400, 48)
    torch.testing.assert_close(y[:, :24], x)
    second = np.load(both.files[0][1]).T
    np.testing.assert_allclose(y[:, 24:].numpy(), zscore(second.astype(np.float64)), atol=1e-5)


def test_pattern_and_folder_options(tmp_path, reference):
    root = tmp_path / "custom"
    (root / "parcellated").mkdir(parents=True)
    shutil.copy(reference / "ndar_subject01.txt", root)
    for path in reference.glob("HCA*.npy"):
        subject = path.name.split("_")[0]
        shutil.copy(path, root / "parcellated" / f"sub-{subject}_schaefer400.npy")
    ds = HCPAgingFMRI(root, "train", timeseries="parcellated", pattern="sub-{subject}_*", **ALL)
    ref = HCPAgingFMRI(reference, "train", **ALL)
    assert ds.ids == ref.ids
    torch.testing.assert_close(ds.load(1), ref.load(1))
    with pytest.raises(DatasetLayoutError, match=r"no time series of any of the 7 table subjects"):
        HCPAgingFMRI(root, "train")


def test_csv_with_header_and_index_column_and_mat_variables(tmp_path, reference):
    ref = HCPAgingFMRI(reference, "train", **ALL)
    root = tmp_path / "mixed"
    root.mkdir()
    shutil.copy(reference / "ndar_subject01.txt", root)
    raw = np.load(ref.source_file(0))
    subject = ref.ids[0]
    frame = pd.DataFrame(raw, columns=[f"7Networks_LH_Vis_{k}" for k in range(400)])
    frame.to_csv(root / f"{subject}_ts.csv")  # header row and pandas' index column
    ds = HCPAgingFMRI(root, "train", **ALL)
    np.testing.assert_allclose(ds.load(0).numpy(), ref.load(0).numpy(), atol=1e-5)
    (root / f"{subject}_ts.csv").unlink()
    scipy.io.savemat(root / f"{subject}_ts.mat", {"ts": raw, "roi_xyz": np.zeros((400, 3))})
    ds = HCPAgingFMRI(root, "train", **ALL)
    with pytest.raises(
        DatasetContentError, match=r"holds 2 2-D numeric variables \['roi_xyz', 'ts'\]"
    ):
        ds.load(0)
    chosen = HCPAgingFMRI(root, "train", mat_key="ts", **ALL)
    np.testing.assert_allclose(chosen.load(0).numpy(), ref.load(0).numpy(), atol=1e-5)


def test_subject_split_is_deterministic_and_disjoint(tmp_path):
    root = write(tmp_path, n=20, without_files=0)
    parts = {s: HCPAgingFMRI(root, s) for s in ("train", "val", "test")}
    assert [len(p) for p in parts.values()] == [14, 3, 3]
    assert len(set().union(*(p.ids for p in parts.values()))) == 20
    assert HCPAgingFMRI(root, "val").ids == parts["val"].ids
    assert any(HCPAgingFMRI(root, "val", seed=s).ids != parts["val"].ids for s in range(1, 5))


def test_bad_table_and_files_are_reported(tmp_path, reference):
    root = tmp_path / "copy"
    shutil.copytree(reference, root)
    table = root / "ndar_subject01.txt"
    with pytest.raises(DatasetLayoutError, match=r"nda.txt not found; expected an NDA table"):
        HCPAgingFMRI(root, table="nda.txt")
    lines = table.read_text().splitlines()
    table.write_text("\n".join(line.replace('"sex"', '"gender"') for line in lines) + "\n")
    with pytest.raises(DatasetLayoutError, match=r"lacks column\(s\) sex; expected tab-separated"):
        HCPAgingFMRI(root)
    table.write_text("\n".join([*lines[:2], lines[2].replace('"M"', '"U"').replace('"F"', '"U"')]))
    subject = lines[2].split("\t")[1].strip('"')
    with pytest.raises(DatasetContentError, match=f"sex is not M or F for subjects {subject}"):
        HCPAgingFMRI(root, **ALL)
    table.write_text("\n".join(lines) + "\n")
    ds = HCPAgingFMRI(root, **ALL)
    ds.source_file(0).write_bytes(b"garbage")
    with pytest.raises(
        DatasetContentError, match=f"cannot read {re.escape(str(ds.source_file(0)))}"
    ):
        ds.load(0)
    with pytest.raises(
        DatasetLayoutError, match=r"is not a folder; expected the folder of the time"
    ):
        HCPAgingFMRI(root, timeseries="absent")
