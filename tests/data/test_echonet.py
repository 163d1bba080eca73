"""EchoNet-Dynamic loader: FileList splits, OpenCV decoding, clips, normalisation, errors."""

import re
import shutil

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset
from supremix.data.echonet import EchoNetDynamic, clip_options, video_mean_std
from supremix.data.phantoms import write_phantom
from supremix.data.videoio import clip_start_count, random_pad_crop, take_clip


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_phantom("echonet", tmp_path_factory.mktemp("echonet"), n=16, size=32, seed=9)


@pytest.fixture
def copy(tmp_path, root):
    target = tmp_path / "copy"
    shutil.copytree(root, target)
    return target


def decode(path):
    """Every frame of an AVI as float (3, F, H, W) RGB, straight from OpenCV."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    ok, frame = capture.read()
    while ok:
        frames.append(frame[:, :, ::-1])
        ok, frame = capture.read()
    capture.release()
    return np.stack(frames).transpose(3, 0, 1, 2).astype(np.float64)


def test_items_follow_the_split_column(root):
    table = pd.read_csv(root / "FileList.csv")
    for split in ("train", "val", "test"):
        ds = get_dataset("echonet", root, split)
        rows = table[table["Split"] == split.upper()]
        assert ds.ids == rows["FileName"].tolist()
        assert np.array_equal(ds.targets, rows["EF"].to_numpy())
    item = EchoNetDynamic(root, "train")[0]
    assert item["x"].shape == (3, 32, 32, 32) and item["x"].dtype == torch.float32
    assert "group" not in item and isinstance(item["y"], float)
    edv = EchoNetDynamic(root, "val", target="EDV")
    assert np.array_equal(edv.targets, table.loc[table["Split"] == "VAL", "EDV"].to_numpy())


def test_split_values_and_file_names_are_matched_leniently(copy):
    table = pd.read_csv(copy / "FileList.csv")
    reference = EchoNetDynamic(copy, "test").ids
    table.assign(Split=table["Split"].str.lower(), FileName=table["FileName"] + ".avi").to_csv(
        copy / "FileList.csv", index=False
    )
    assert EchoNetDynamic(copy, "test").ids == reference
    table.assign(Split="EXTERNAL").to_csv(copy / "FileList.csv", index=False)
    with pytest.raises(DatasetContentError, match=r"unknown Split value\(s\) \['EXTERNAL'\]"):
        EchoNetDynamic(copy)


def test_fixed_clip_takes_every_second_frame_from_the_first_and_pads_zeros(root):
    ds = EchoNetDynamic(root, "train", augment=False)
    lengths = [decode(ds.source_file(i)).shape[1] for i in range(len(ds))]
    assert min(lengths) < 64 < max(lengths)  # short videos are padded, long ones are cut
    for i in (int(np.argmin(lengths)), int(np.argmax(lengths))):
        video = decode(ds.source_file(i))
        clip = ds[i]["x"].numpy()
        taken = video[:, 0 : 2 * 32 : 2]
        assert np.array_equal(clip[:, : taken.shape[1]], taken)
        assert not clip[:, taken.shape[1] :].any()
    assert torch.equal(ds[0]["x"], ds[0]["x"])


def test_random_start_is_a_valid_start_and_follows_torch_seed(root):
    ds = EchoNetDynamic(root, "train", pad=None)
    assert ds.augment
    video = ds.load(0)
    count = clip_start_count(video.shape[1], 32, 2)
    candidates = [take_clip(video, s, 32, 2) for s in range(count)]
    starts = set()
    for seed in range(6):
        torch.manual_seed(seed)
        clip = ds[0]["x"]
        matches = [s for s, c in enumerate(candidates) if torch.equal(c, clip)]
        assert matches
        starts.add(matches[0])
        torch.manual_seed(seed)
        assert torch.equal(ds[0]["x"], clip)
    assert len(starts) > 1


def test_all_clips_and_evenly_spaced_clips(root):
    video = EchoNetDynamic(root, "val").load(0)
    count = clip_start_count(video.shape[1], 32, 2)
    every = EchoNetDynamic(root, "val", clips="all")[0]["x"]
    assert every.shape == (count, 3, 32, 32, 32)
    for s in (0, count // 2, count - 1):
        assert torch.equal(every[s], take_clip(video, s, 32, 2))
    three = EchoNetDynamic(root, "val", clips=3)[0]["x"]
    assert three.shape == (3, 3, 32, 32, 32)
    assert torch.equal(three[0], every[0]) and torch.equal(three[2], every[count - 1])


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 5), st.integers(4, 9), st.integers(0, 2**16))
def test_random_pad_crop_is_a_window_of_the_padded_frames(pad, size, seed):
    x = torch.rand(3, 2, size, size + 1) + 1
    torch.manual_seed(seed)
    out = random_pad_crop(x, pad)
    padded = F.pad(x, (pad, pad, pad, pad))
    windows = [
        padded[..., i : i + size, j : j + size + 1]
        for i in range(2 * pad + 1)
        for j in range(2 * pad + 1)
    ]
    assert out.shape == x.shape
    assert any(torch.equal(out, w) for w in windows)


def test_training_items_are_padded_and_cropped(root):
    ds = EchoNetDynamic(root, "train", clips="all")
    torch.manual_seed(1)
    crops = [ds[0]["x"] for _ in range(4)]
    unpadded = EchoNetDynamic(root, "train", clips="all", pad=None)[0]["x"]
    assert all(c.shape == unpadded.shape for c in crops)
    assert any(not torch.equal(c, unpadded) for c in crops)


def test_mean_std_helper_and_normalisation(root):
    ds = EchoNetDynamic(root, "train")
    mean, std = video_mean_std(ds, samples=None)
    pixels = np.concatenate([decode(ds.source_file(i)).reshape(3, -1) for i in range(len(ds))], 1)
    np.testing.assert_allclose(mean, pixels.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(std, pixels.std(axis=1), rtol=1e-6)
    normed = EchoNetDynamic(root, "train", mean=mean, std=std)
    expected = (decode(ds.source_file(0)) - np.reshape(mean, (3, 1, 1, 1))) / np.reshape(
        std, (3, 1, 1, 1)
    )
    np.testing.assert_allclose(normed.load(0).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert normed.options["mean"] == pytest.approx(mean)
    subset = video_mean_std(ds, samples=4, seed=1)
    assert subset != (mean, std) and subset == video_mean_std(ds, samples=4, seed=1)
    options = clip_options(normed)
    assert options == {"length": 32, "period": 2, "mean": mean, "std": std, "size": (32, 32)}


def test_size_option_resizes_frames(root):
    ds = EchoNetDynamic(root, "test", size=16, augment=False)
    assert ds[0]["x"].shape == (3, 32, 16, 16) and ds.options["size"] == (16, 16)
    full = EchoNetDynamic(root, "test").raw_video(0)
    block = full.reshape(3, -1, 16, 2, 16, 2).mean(dim=(3, 5))
    torch.testing.assert_close(ds.raw_video(0), block)


def test_volume_tracings_give_ed_and_es_frames(root, copy):
    ds = EchoNetDynamic(root, "train")
    table = pd.read_csv(root / "VolumeTracings.csv")
    for i, name in enumerate(ds.ids):
        frames = table.loc[table["FileName"] == f"{name}.avi", "Frame"].drop_duplicates().tolist()
        assert ds.traced_frames(i) == (frames[-1], frames[0])
        assert all(len(ds.tracings[name][frame]) == 21 for frame in frames)
    table.rename(columns={"Frame": "frame"}).to_csv(copy / "VolumeTracings.csv", index=False)
    with pytest.raises(DatasetLayoutError, match=r"expected the header FileName,X1,Y1,X2,Y2,Frame"):
        EchoNetDynamic(copy)
    (copy / "VolumeTracings.csv").unlink()
    assert EchoNetDynamic(copy).traced_frames(0) is None


def test_bad_inputs_name_what_was_expected(copy, tmp_path):
    table = pd.read_csv(copy / "FileList.csv")
    table.drop(columns="EF").to_csv(copy / "FileList.csv", index=False)
    with pytest.raises(
        DatasetLayoutError, match=r"lacks column\(s\) EF; expected columns FileName"
    ):
        EchoNetDynamic(copy)
    table.to_csv(copy / "FileList.csv", index=False)
    name = table.loc[table["Split"] == "TRAIN", "FileName"].iloc[0]
    (copy / "Videos" / f"{name}.avi").unlink()
    with pytest.raises(DatasetLayoutError, match=rf"1 videos listed .* missing .*: {name}.avi"):
        EchoNetDynamic(copy, "train")
    assert len(EchoNetDynamic(copy, "val")) > 0
    with pytest.raises(
        DatasetLayoutError, match=r"FileList.csv not found; expected <root>/FileList"
    ):
        EchoNetDynamic(tmp_path)
    shutil.copy(copy / "FileList.csv", tmp_path)
    with pytest.raises(DatasetLayoutError, match=r"no Videos folder in .*; expected <root>/Videos"):
        EchoNetDynamic(tmp_path)


def test_unreadable_video_is_reported_with_its_path(copy):
    ds = EchoNetDynamic(copy, "val")
    ds.source_file(0).write_bytes(b"RIFF not really an avi")
    with pytest.raises(
        DatasetContentError, match=f"unreadable video {re.escape(str(ds.source_file(0)))}"
    ):
        ds[0]
