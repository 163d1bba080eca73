"""The preprocessing cache: bit-equal to decoding, invalidated by changes, built atomically."""

import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from supremix.data.base import RegressionDataset
from supremix.data.cache import CachedDataset, default_cache_dir
from supremix.data.generic import CSVDataset


def write_pngs(folder, n=5, shape=(9, 11), seed=0):
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(folder / f"{i}.png")
    rows = {"path": [f"{i}.png" for i in range(n)], "target": np.arange(n) * 2.0}
    rows["sex"] = np.arange(n) % 2
    pd.DataFrame(rows).to_csv(folder / "labels.csv", index=False)


def images(folder, **options):
    return CSVDataset(folder, "train", val=0, test=0, group_column="sex", **options)


def assert_same_items(cached, direct):
    assert len(cached) == len(direct)
    for i in range(len(direct)):
        a, b = cached[i], direct[i]
        assert torch.equal(a["x"], b["x"]) and a["x"].dtype == b["x"].dtype
        assert (a["y"], a["id"], a["group"]) == (b["y"], b["id"], b["group"])


def test_cache_equals_decoding_and_is_reused(tmp_path):
    write_pngs(tmp_path)
    direct = images(tmp_path, size=(6, 7))
    cached = CachedDataset(direct, tmp_path / "cache")
    assert cached.rebuilt
    assert_same_items(cached, direct)
    assert (cached.ids, cached.split, cached.modality) == (direct.ids, "train", "image2d")
    again = CachedDataset(images(tmp_path, size=(6, 7)), tmp_path / "cache")
    assert not again.rebuilt and again.folder == cached.folder
    assert_same_items(again, direct)
    manifest = json.loads((cached.folder / "manifest.json").read_text())
    assert manifest["shape"] == [5, 1, 6, 7] and manifest["dtype"] == "<f4"
    assert (
        manifest["sources"][str(tmp_path / "0.png")]["size"] == (tmp_path / "0.png").stat().st_size
    )


def test_changed_file_or_options_rebuild(tmp_path):
    write_pngs(tmp_path)
    first = CachedDataset(images(tmp_path, size=(6, 7)), tmp_path / "cache")
    Image.fromarray(np.full((9, 11), 7, np.uint8)).save(tmp_path / "3.png")
    changed = images(tmp_path, size=(6, 7))
    rebuilt = CachedDataset(changed, tmp_path / "cache")
    assert rebuilt.rebuilt and rebuilt.folder == first.folder
    assert_same_items(rebuilt, changed)
    torch.testing.assert_close(rebuilt[3]["x"], torch.full((1, 6, 7), 7 / 255))
    other = CachedDataset(images(tmp_path, size=(4, 4)), tmp_path / "cache")
    assert other.rebuilt and other.folder != first.folder and other[0]["x"].shape == (1, 4, 4)
    normalized = images(tmp_path, size=(6, 7), normalize="zscore")
    renormalized = CachedDataset(normalized, tmp_path / "cache")
    assert renormalized.rebuilt
    assert_same_items(renormalized, normalized)


def test_touched_file_with_same_size_rebuilds(tmp_path):
    write_pngs(tmp_path, n=2)
    CachedDataset(images(tmp_path), tmp_path / "cache")
    stat = (tmp_path / "1.png").stat()
    os.utime(tmp_path / "1.png", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert CachedDataset(images(tmp_path), tmp_path / "cache").rebuilt


class Flaky(RegressionDataset):
    """Decodes item i to a constant array; raises on ``fail_at``; ``prepare`` adds the index."""

    name = "flaky"

    def __init__(self, n=6, fail_at=None, shape_of=None, source=None):
        super().__init__([f"f{i}" for i in range(n)], np.arange(n, dtype=float), split="val")
        self.fail_at, self.shape_of, self.source = fail_at, shape_of or {}, source
        self.options = {"level": 1}

    def source_file(self, index):
        return self.source

    def load(self, index):
        if index == self.fail_at:
            raise OSError(f"disk error at {index}")
        return torch.full(self.shape_of.get(index, (2, 3)), float(index))

    def prepare(self, x, index):
        return x + 1000 * index


def test_crash_mid_build_leaves_no_manifest(tmp_path):
    with pytest.raises(OSError, match="disk error at 4"):
        CachedDataset(Flaky(fail_at=4), tmp_path)
    (folder,) = tmp_path.iterdir()
    assert list(folder.iterdir()) == []
    good = CachedDataset(Flaky(), tmp_path)
    assert good.rebuilt and good.folder == folder
    assert sorted(p.name for p in folder.iterdir()) == ["data.npy", "manifest.json"]
    assert all(torch.equal(good[i]["x"], Flaky()[i]["x"]) for i in range(6))


def test_crash_during_rebuild_removes_the_old_manifest(tmp_path):
    source = tmp_path / "table.bin"
    source.write_bytes(b"version 1")
    cached = CachedDataset(Flaky(source=source), tmp_path / "cache")
    folder = cached.folder
    assert (folder / "manifest.json").exists()
    source.write_bytes(b"version 22")
    with pytest.raises(OSError, match="disk error at 2"):
        CachedDataset(Flaky(fail_at=2, source=source), tmp_path / "cache")
    assert not (folder / "manifest.json").exists()
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_items_of_different_shapes_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"item 3 \(f3\) is float32 \(4, 3\) but item 0 is"):
        CachedDataset(Flaky(shape_of={3: (4, 3)}), tmp_path)
    (folder,) = tmp_path.iterdir()
    assert not (folder / "manifest.json").exists()


def test_prepare_runs_after_the_cache_and_pickling_drops_the_memory_map(tmp_path):
    cached = CachedDataset(Flaky(), tmp_path)
    assert cached[2]["x"].tolist() == [[2002.0] * 3] * 2
    assert cached.array.shape == (6, 2, 3)
    restored = pickle.loads(pickle.dumps(cached))
    assert restored._array is None and len(pickle.dumps(cached)) < 10_000
    assert torch.equal(restored[5]["x"], cached[5]["x"])


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SUPREMIX_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("SUPREMIX_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "supremix"
