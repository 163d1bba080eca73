"""RHPE-layout hand phantom: two-hand radiographs with ROI boxes and keypoints (the SupReMix paper
§4.1.3, Table 1).

The hands are those of :mod:`.bone_xray` (its docstring gives the generative model): the
labelled left hand in the left half of the image, its mirror image in the right half. Bone
age: the truth clipped to [12, 228] months draws the hand, the label is a reader's bone age
(:mod:`.label_noise`); chronological age ``t + N(0, 14)`` rounded and clipped to [10, 242];
50 % boys.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from .bone_xray import (
    _bone_ages,
    _check_size,
    _male_text,
    _split_counts,
    radiograph,
    random_pose,
    render_hand,
)


def _bounding_box(cover: np.ndarray, margin: int = 2) -> list[int]:
    rows = np.flatnonzero(cover.max(axis=1) > 0.5)
    cols = np.flatnonzero(cover.max(axis=0) > 0.5)
    if rows.size == 0:
        return [0, 0, 0, 0]
    x0, y0 = max(int(cols[0]) - margin, 0), max(int(rows[0]) - margin, 0)
    x1 = min(int(cols[-1]) + margin + 1, cover.shape[1])
    y1 = min(int(rows[-1]) + margin + 1, cover.shape[0])
    return [x0, y0, x1 - x0, y1 - y0]


KEYPOINT_NAMES = (
    *(f"tip_{f}" for f in ("thumb", "index", "middle", "ring", "little")),
    *(f"mcp_{f}" for f in ("thumb", "index", "middle", "ring", "little")),
    *(f"pip_{f}" for f in ("thumb", "index", "middle", "ring", "little")),
    "radius",
    "ulna",
)


def write_rhpe(
    out: Path,
    *,
    n: int = 800,
    image_size: Sequence[int] = (96, 160),
    seed: int = 0,
    missing_box_fraction: float = 0.03,
) -> Path:
    """Write an RHPE-layout phantom of ``n`` two-hand radiographs under ``out``; return ``out``.

    Each image shows the labelled left hand in its left half and its mirror image, the right
    hand, in the right half; ``RHPE_anatomical_ROIs_<split>.json`` boxes the left hand and
    gives 17 keypoints, except for ``missing_box_fraction`` of images whose box and keypoints
    are all zero (RHPE's "not annotated"). Splits 80/10/10 %; the test CSV has no bone age.
    """
    height, width = _check_size(image_size)
    half = width // 2
    out = Path(out)
    rng = np.random.default_rng(seed)
    n_train, n_val, _ = _split_counts(n, 0.1, 0.1)
    ids = rng.permutation(n) + 1
    truth, ages = _bone_ages(rng, n, 12, 228, "rhpe")
    chronological = np.clip(np.rint(truth + rng.normal(0.0, 14.0, size=n)), 10, 242).astype(int)
    male = rng.random(n) < 0.5
    missing_box = rng.random(n) < missing_box_fraction
    annotations = out / "RHPE_Annotations"
    annotations.mkdir(parents=True, exist_ok=True)
    bounds = {
        "train": (0, n_train),
        "val": (n_train, n_train + n_val),
        "test": (n_train + n_val, n),
    }
    for split, (start, stop) in bounds.items():
        folder = out / f"RHPE_{split}"
        folder.mkdir(parents=True, exist_ok=True)
        coco: dict[str, list] = {"images": [], "annotations": [], "categories": []}
        coco["categories"].append(
            {"id": 1, "name": "hand", "keypoints": list(KEYPOINT_NAMES), "skeleton": []}
        )
        for i in range(start, stop):
            item_rng = np.random.default_rng([seed, i])
            soft, bone, keypoints = render_hand(
                truth[i], bool(male[i]), random_pose(item_rng), height, half
            )
            pad = ((0, 0), (0, width - 2 * half))
            soft_all = np.pad(np.concatenate([soft, soft[:, ::-1]], axis=1), pad)
            bone_all = np.pad(np.concatenate([bone, bone[:, ::-1]], axis=1), pad)
            stem = f"{ids[i]:05d}"
            Image.fromarray(radiograph(soft_all, bone_all, item_rng)).save(folder / f"{stem}.png")
            box = [0, 0, 0, 0] if missing_box[i] else _bounding_box(soft)
            points = np.zeros((17, 3)) if missing_box[i] else np.c_[keypoints, np.full(17, 2.0)]
            coco["images"].append(
                {"id": int(ids[i]), "file_name": f"{stem}.png", "height": height, "width": width}
            )
            coco["annotations"].append(
                {
                    "id": int(ids[i]),
                    "image_id": int(ids[i]),
                    "category_id": 1,
                    "bbox": box,
                    "area": box[2] * box[3],
                    "iscrowd": 0,
                    "num_keypoints": 0 if missing_box[i] else 17,
                    "keypoints": [round(float(v), 2) for v in points.ravel()],
                }
            )
        (annotations / f"RHPE_anatomical_ROIs_{split}.json").write_text(json.dumps(coco))
        rows = slice(start, stop)
        table = {"ID": ids[rows], "Male": _male_text(male[rows])}
        if split == "test":
            table["Chronological"] = chronological[rows]
            name = "RHPE_Gender_Chronological_test.csv"
        else:
            table["Boneage"] = ages[rows]
            table["Chronological"] = chronological[rows]
            name = f"RHPE_Boneage_{split}.csv"
        pd.DataFrame(table).to_csv(annotations / name, index=False)
    return out
