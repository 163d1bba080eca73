"""The generic CSV loader on files written by Pillow, nibabel, OpenCV and NumPy."""

import cv2
import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset, seeded_split
from supremix.data.generic import CSVDataset


def write_csv(folder, rows, name="labels.csv"):
    pd.DataFrame(rows).to_csv(folder / name, index=False)
    return folder / name


def test_png_images_8_and_16_bit_gray_and_rgb(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    deep = rng.integers(0, 65536, (5, 7), dtype=np.uint16)
    rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "a.png")
    Image.fromarray(deep).save(tmp_path / "b.png")
    Image.fromarray(rgb).save(tmp_path / "c.png")
    rows = {"path": ["a.png", "b.png", "c.png"], "target": [1.0, 2.0, 3.0], "fold": ["train"] * 3}
    write_csv(tmp_path, rows)
    ds = get_dataset("csv", tmp_path, "train", split_column="fold")
    assert ds.modality == "image2d" and ds.ids == ["a.png", "b.png", "c.png"]
    np.testing.assert_array_equal(ds[0]["x"].numpy(), gray[None] / np.float32(255))
    np.testing.assert_array_equal(ds[1]["x"].numpy(), deep[None] / np.float32(65535))
    luma = np.asarray(Image.fromarray(rgb).convert("L"))
    np.testing.assert_array_equal(ds[2]["x"].numpy()[0], luma / np.float32(255))
    colour = CSVDataset(tmp_path, split_column="fold", channels=3)
    np.testing.assert_array_equal(colour[2]["x"].numpy(), rgb.transpose(2, 0, 1) / np.float32(255))
    resized = CSVDataset(tmp_path, split_column="fold", size=(4, 3))
    assert resized[0]["x"].shape == (1, 4, 3)
    reference = torch.nn.functional.interpolate(
        torch.from_numpy(gray / np.float32(255))[None, None],
        (4, 3),
        mode="bilinear",
        antialias=True,
    )
    torch.testing.assert_close(resized[0]["x"], reference[0], atol=1e-6, rtol=0)
    flat = Image.fromarray(np.full((8, 8), 51, np.uint8))
    flat.save(tmp_path / "a.png")
    torch.testing.assert_close(resized[0]["x"], torch.full((1, 4, 3), 0.2))
    assert resized.source_file(0) == tmp_path / "a.png"


def test_nifti_volume_and_zscore(tmp_path):
    volume = np.random.default_rng(1).normal(size=(4, 5, 6)).astype(np.float32)
    nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / "v.nii.gz")
    nib.save(nib.Nifti1Image(volume * 2, np.eye(4)), tmp_path / "w.nii")
    write_csv(tmp_path, {"file": ["v.nii.gz", "w.nii"], "age": [50, 60], "split": ["test"] * 2})
    ds = CSVDataset(tmp_path, "test", path_column="file", target_column="age", split_column="split")
    assert ds.modality == "volume3d"
    np.testing.assert_array_equal(ds[0]["x"].numpy(), volume[None])
    np.testing.assert_array_equal(ds[1]["x"].numpy(), 2 * volume[None])
    z = CSVDataset(
        tmp_path,
        "test",
        path_column="file",
        target_column="age",
        split_column="split",
        normalize="zscore",
    )
    x = z[0]["x"].double()
    assert abs(x.mean().item()) < 1e-6 and abs(x.std(unbiased=False).item() - 1) < 1e-5
    assert CSVDataset(
        tmp_path,
        "test",
        path_column="file",
        target_column="age",
        split_column="split",
        size=(2, 3, 3),
    )[0]["x"].shape == (1, 2, 3, 3)


def test_avi_video_frames_and_resampling(tmp_path):
    writer = cv2.VideoWriter(
        str(tmp_path / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (16, 12), isColor=True
    )
    for t in range(7):
        writer.write(np.full((12, 16, 3), 30 * t + 10, np.uint8))
    writer.release()
    write_csv(tmp_path, {"path": ["clip.avi"], "target": [55.0], "split": ["val"]})
    ds = CSVDataset(tmp_path, "val", split_column="split")
    x = ds[0]["x"]
    assert ds.modality == "video" and x.shape == (1, 7, 12, 16)
    levels = x.mean(dim=(0, 2, 3)) * 255
    np.testing.assert_allclose(levels.numpy(), [30 * t + 10 for t in range(7)], atol=2)
    picked = CSVDataset(tmp_path, "val", split_column="split", frames=4, size=(6, 8))[0]["x"]
    assert picked.shape == (1, 4, 6, 8)
    np.testing.assert_allclose(picked.mean(dim=(0, 2, 3)).numpy() * 255, [10, 70, 130, 190], atol=2)
    assert CSVDataset(tmp_path, "val", split_column="split", channels=3)[0]["x"].shape[0] == 3


def test_time_series_from_npy_and_csv(tmp_path):
    series = np.random.default_rng(2).normal(size=(3, 20)).astype(np.float32)
    np.save(tmp_path / "a.npy", series)
    np.save(tmp_path / "b.npy", series[0])
    pd.DataFrame(series.T, columns=["r1", "r2", "r3"]).to_csv(tmp_path / "c.csv", index=False)
    np.savetxt(tmp_path / "d.csv", series.T, delimiter=",")
    write_csv(
        tmp_path,
        {
            "path": ["a.npy", "b.npy", "c.csv", "d.csv"],
            "target": [1, 2, 3, 4],
            "split": ["train"] * 4,
        },
    )
    ds = CSVDataset(tmp_path, split_column="split")
    assert ds.modality == "timeseries"
    np.testing.assert_array_equal(ds[0]["x"].numpy(), series)
    np.testing.assert_array_equal(ds[1]["x"].numpy(), series[:1])
    np.testing.assert_allclose(ds[2]["x"].numpy(), series, rtol=1e-6)
    np.testing.assert_allclose(ds[3]["x"].numpy(), series, rtol=1e-6)
    assert CSVDataset(tmp_path, split_column="split", size=(10,))[0]["x"].shape == (3, 10)


def test_tabular_features_groups_and_train_fitted_scaling(tmp_path):
    rng = np.random.default_rng(3)
    table = pd.DataFrame(rng.normal(5, 3, size=(40, 3)), columns=["f1", "f2", "f3"])
    table["target"] = rng.normal(size=40)
    table["sex"] = np.arange(40) % 2 == 0
    csv = write_csv(tmp_path, table, name="table.csv")
    parts = {
        s: CSVDataset(csv, s, feature_columns=["f1", "f3"], group_column="sex")
        for s in ("train", "val", "test")
    }
    expected = seeded_split([str(i) for i in range(40)], val=0.1, test=0.1, seed=0)
    for split, ds in parts.items():
        rows = expected[split]
        assert ds.modality == "tabular" and ds.ids == [str(i) for i in rows]
        np.testing.assert_array_equal(ds.targets, table["target"].to_numpy()[rows])
        assert ds.groups.tolist() == (rows % 2 == 0).astype(int).tolist()
        np.testing.assert_allclose(
            ds[0]["x"].numpy(), table.loc[rows[0], ["f1", "f3"]].to_numpy(float), rtol=1e-6
        )
    scaled = {
        s: CSVDataset(csv, s, feature_columns=["f1", "f3"], normalize="zscore")
        for s in ("train", "test")
    }
    train_rows = table.loc[expected["train"], ["f1", "f3"]].to_numpy()
    mean, std = train_rows.mean(axis=0), train_rows.std(axis=0)
    test_rows = table.loc[expected["test"], ["f1", "f3"]].to_numpy()
    np.testing.assert_allclose(scaled["test"].features, (test_rows - mean) / std, rtol=1e-5)
    assert scaled["train"].source_file(0) == csv


def test_seeded_split_is_a_partition_and_split_column_selects(tmp_path):
    for i in range(30):
        np.save(tmp_path / f"s{i}.npy", np.zeros(4))
    write_csv(
        tmp_path,
        {
            "path": [f"s{i}.npy" for i in range(30)],
            "target": range(30),
            "fold": ["train", "val", "TEST"] * 10,
        },
    )
    seen = [CSVDataset(tmp_path, s, val=5, test=5, seed=4).ids for s in ("train", "val", "test")]
    assert [len(ids) for ids in seen] == [20, 5, 5]
    assert sorted(ids for part in seen for ids in part) == sorted(f"s{i}.npy" for i in range(30))
    assert CSVDataset(tmp_path, "val", val=5, test=5, seed=4).ids == seen[1]
    by_column = CSVDataset(tmp_path, "test", split_column="fold")
    assert by_column.targets.tolist() == list(range(2, 30, 3))


def test_clear_errors(tmp_path):
    with pytest.raises(DatasetLayoutError, match=r"csv: no CSV file at .*labels.csv"):
        CSVDataset(tmp_path)
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(tmp_path / "a.png")
    np.save(tmp_path / "b.npy", np.zeros(3))
    write_csv(tmp_path, {"path": ["a.png"], "label": [1.0]})
    with pytest.raises(
        DatasetLayoutError, match=r"target column 'target' not in .* \(columns: path, label\)"
    ):
        CSVDataset(tmp_path)
    write_csv(tmp_path, {"path": ["a.png", "missing.png"], "target": [1, 2], "s": ["train"] * 2})
    with pytest.raises(
        DatasetLayoutError, match=r"file 'missing.png' \(row 3\) listed in .* is missing"
    ):
        CSVDataset(tmp_path, split_column="s")
    write_csv(tmp_path, {"path": ["a.png", "b.npy"], "target": [1, 2]})
    with pytest.raises(DatasetContentError, match=r"mixes modalities image2d, timeseries"):
        CSVDataset(tmp_path)
    write_csv(tmp_path, {"path": ["a.png", "b.txt"], "target": [1, 2]})
    with pytest.raises(DatasetContentError, match=r"cannot tell the modality of b.txt"):
        CSVDataset(tmp_path)
    write_csv(tmp_path, {"path": ["a.png", "a.png"], "target": [1, "abc"]})
    with pytest.raises(
        DatasetContentError, match=r"target column 'target' is not numeric \(row 1: 'abc'\)"
    ):
        CSVDataset(tmp_path)
    write_csv(tmp_path, {"path": ["a.png", "a.png"], "target": [1, 2]})
    with pytest.raises(DatasetContentError, match=r"duplicate ids in .*: a.png"):
        CSVDataset(tmp_path)
    write_csv(tmp_path, {"path": ["a.png"], "target": [1], "sex": ["M"], "s": ["dev"]})
    with pytest.raises(DatasetContentError, match=r"group column 'sex' must hold integers .*'M'"):
        CSVDataset(tmp_path, group_column="sex")
    with pytest.raises(DatasetContentError, match=r"split column 's' has values 'dev'; expected"):
        CSVDataset(tmp_path, split_column="s")
    with pytest.raises(ValueError, match=r"channels must be 1 or 3, got 2"):
        CSVDataset(tmp_path, channels=2)
