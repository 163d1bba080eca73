"""Echo phantoms: deterministic, EF distributions, and EF recomputed from the written data."""

import re

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from matplotlib.path import Path as PolygonPath
from scipy import ndimage, stats

from supremix.data.camus import read_cfg
from supremix.data.echonet import EchoNetDynamic
from supremix.data.phantoms import write_phantom
from supremix.data.phantoms.echo import contraction, sample_ef


@pytest.fixture(scope="module")
def echonet(tmp_path_factory):
    return write_phantom("echonet", tmp_path_factory.mktemp("echo"), n=40, size=48, seed=21)


@pytest.fixture(scope="module")
def camus(tmp_path_factory):
    root = tmp_path_factory.mktemp("camus")
    return {
        release: write_phantom("camus", root / release, n=30, size=48, seed=5, release=release)
        for release in ("2019", "2023")
    }


def disc_volume(rows):
    """Method of discs on EchoNet traces: first row the long axis, then the chords."""
    length = np.hypot(rows[0, 2] - rows[0, 0], rows[0, 3] - rows[0, 1])
    chords = np.hypot(rows[1:, 2] - rows[1:, 0], rows[1:, 3] - rows[1:, 1])
    return float(np.sum(np.pi * (chords / 2) ** 2 * length / len(chords)))


def read_raw_mhd(path):
    """A MetaImage read with nothing but the header text and numpy (independent reader)."""
    header = dict(line.split(" = ", 1) for line in path.read_text().splitlines())
    dims = [int(d) for d in header["DimSize"].split()]
    data = np.fromfile(path.parent / header["ElementDataFile"], dtype=np.uint8)
    return data.reshape(dims[::-1]), header


def test_ef_distributions_match_the_datasets():
    rng = np.random.default_rng(0)
    echo, camus = sample_ef(rng, 50_000, "echonet"), sample_ef(rng, 50_000, "camus")
    assert echo.min() >= 7 and echo.max() <= 92 and camus.min() >= 15 and camus.max() <= 85
    assert abs(echo.mean() - 55.7) < 1.5 and 11 < echo.std() < 14
    assert abs(camus.mean() - 52.0) < 1.5 and 10 < camus.std() < 14
    assert stats.skew(echo) < 0  # a long tail of reduced EF


def test_same_seed_same_tables_and_frames(tmp_path):
    a = write_phantom("echonet", tmp_path / "a", n=3, size=32, seed=1)
    b = write_phantom("echonet", tmp_path / "b", n=3, size=32, seed=1)
    c = write_phantom("echonet", tmp_path / "c", n=3, size=32, seed=2)
    for name in ("FileList.csv", "VolumeTracings.csv"):
        assert (a / name).read_text() == (b / name).read_text()
    assert (a / "FileList.csv").read_text() != (c / "FileList.csv").read_text()
    da, db = EchoNetDynamic(a, "train"), EchoNetDynamic(b, "train")
    assert len(da) > 0
    for i in range(len(da)):
        assert np.array_equal(da.raw_video(i).numpy(), db.raw_video(i).numpy())


def test_file_list_is_consistent_with_the_videos(echonet):
    table = pd.read_csv(echonet / "FileList.csv")
    assert set(table["Split"]) == {"TRAIN", "VAL", "TEST"}
    assert all(re.fullmatch(r"0X[0-9A-F]{16}", name) for name in table["FileName"])
    np.testing.assert_allclose(table["ESV"], table["EDV"] * (1 - table["EF"] / 100))
    assert table["NumberOfFrames"].between(40, 80).all() and (table["FPS"] == 50).all()
    ds = EchoNetDynamic(echonet, "train")
    rows = table.set_index("FileName")
    for i in range(0, len(ds), 7):
        video = ds.raw_video(i)
        assert video.shape[1] == rows.loc[ds.ids[i], "NumberOfFrames"]
        assert tuple(video.shape[2:]) == (48, 48)


def test_traces_give_the_ef_by_the_method_of_discs(echonet):
    for split in ("train", "val", "test"):
        ds = EchoNetDynamic(echonet, split)
        for i, name in enumerate(ds.ids):
            ed, es = ds.traced_frames(i)
            edv, esv = disc_volume(ds.tracings[name][ed]), disc_volume(ds.tracings[name][es])
            assert 100 * (1 - esv / edv) == pytest.approx(ds.targets[i], abs=0.01)


def lv_area(frame, rows):
    """Dark pixels inside the (dilated) end-diastolic trace polygon."""
    polygon = np.concatenate([rows[1:, :2], rows[1:, 2:][::-1]])
    ys, xs = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]]
    inside = PolygonPath(polygon).contains_points(np.c_[xs.ravel(), ys.ravel()], radius=1.5)
    inside = ndimage.binary_dilation(inside.reshape(frame.shape))
    return int(((ndimage.gaussian_filter(frame, 0.5) < 50) & inside).sum())


def test_ef_from_the_decoded_ed_and_es_lv_areas_tracks_the_label(echonet):
    labels, estimates = [], []
    for split in ("train", "val", "test"):
        ds = EchoNetDynamic(echonet, split)
        for i, name in enumerate(ds.ids):
            grey = ds.raw_video(i).mean(dim=0).numpy()
            ed, es = ds.traced_frames(i)
            rows = ds.tracings[name][ed]
            ratio = lv_area(grey[es], rows) / lv_area(grey[ed], rows)
            estimates.append(100 * (1 - ratio ** (5 / 3)))  # EF = 1 - (A_ES / A_ED)^(5/3)
            labels.append(ds.targets[i])
    assert len(labels) == 40
    assert stats.spearmanr(labels, estimates).statistic > 0.85
    assert np.abs(np.subtract(estimates, labels)).mean() < 8


def test_contraction_is_zero_at_ed_and_one_at_es():
    c = contraction(np.arange(100), period=30, systole=10, start=4)
    assert c[4] == 0 and c[14] == pytest.approx(1) and c[34] == 0
    assert c.min() >= 0 and c.max() <= 1 + 1e-12
    assert np.all(np.diff(c[4:15]) > 0) and np.all(np.diff(c[14:28]) < 0)


def test_camus_2019_is_metaimage_with_lvef_and_ten_folds(camus):
    root = camus["2019"]
    folder = root / "training" / "patient0001"
    frames, header = read_raw_mhd(folder / "patient0001_4CH_half_sequence.mhd")
    info = read_cfg(folder / "Info_4CH.cfg")
    assert header["ElementType"] == "MET_UCHAR" and header["NDims"] == "3"
    assert frames.shape[0] == int(info["NbFrame"]) == int(info["ES"]) and info["ED"] == "1"
    assert 10 <= frames.shape[0] <= 34 and frames.shape[1] == 48 and 33 <= frames.shape[2] <= 44
    assert {"LVedv", "LVesv", "LVef", "ImageQuality", "Sex", "Age"} <= set(info)
    assert "LVef" not in read_cfg(root / "testing" / "patient0031" / "Info_4CH.cfg")
    patients = {f"patient{k:04d}" for k in range(1, 31)}
    for fold in range(1, 11):
        lists = [
            set((root / "listSubGroups" / f"subGroup{fold}_{w}.txt").read_text().split())
            for w in ("training", "validation", "testing")
        ]
        assert set.union(*lists) == patients and sum(map(len, lists)) == 30


def test_camus_2023_is_nifti_with_ef_and_the_same_content(camus):
    old, new = camus["2019"] / "training", camus["2023"] / "database_nifti"
    for patient in ("patient0001", "patient0017"):
        mhd, _ = read_raw_mhd(old / patient / f"{patient}_2CH_half_sequence.mhd")
        nii = nib.load(new / patient / f"{patient}_2CH_half_sequence.nii.gz").get_fdata()
        assert np.array_equal(nii.transpose(2, 1, 0), mhd)  # ITK order: x, y, t
        info_old = read_cfg(old / patient / "Info_2CH.cfg")
        info_new = read_cfg(new / patient / "Info_2CH.cfg")
        assert info_new["EF"] == info_old["LVef"] and "LVef" not in info_new
    split = [
        (camus["2023"] / "database_split" / f"subgroup_{w}.txt").read_text().split()
        for w in ("training", "validation", "testing")
    ]
    assert [len(s) for s in split] == [24, 3, 3]


def test_camus_ground_truth_areas_give_the_ef(camus):
    root = camus["2019"] / "training"
    labels, estimates = [], []
    for k in range(1, 31):
        patient = f"patient{k:04d}"
        ed, _ = read_raw_mhd(root / patient / f"{patient}_4CH_ED_gt.mhd")
        es, _ = read_raw_mhd(root / patient / f"{patient}_4CH_ES_gt.mhd")
        assert set(np.unique(ed)) <= {0, 1, 2, 3}
        ratio = (es == 1).sum() / (ed == 1).sum()
        estimates.append(100 * (1 - ratio ** (5 / 3)))
        labels.append(float(read_cfg(root / patient / "Info_4CH.cfg")["LVef"]))
    assert stats.spearmanr(labels, estimates).statistic > 0.9
    assert np.abs(np.subtract(labels, estimates)).mean() < 6
