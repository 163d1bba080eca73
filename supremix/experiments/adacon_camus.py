"""AdaCon Table XIII: the EchoNet-trained models evaluated on CAMUS, by image quality.

AdaCon §IV-B7 evaluates its EchoNet-Dynamic models (Ouyang et al.'s, i.e. R(2+1)D-18 regressed
with MSE, and AdaCon multi-task: the runs of Table VIII) on "the 4-chamber training set
sequences" of CAMUS (all 450 labelled patients), resized to 112 x 112, "with the same
parameters and data processing pipeline", overall and "categorized by sequence quality" (the
``ImageQuality`` of each patient's ``Info_4CH.cfg``: Good, Medium, Poor). Nothing is trained
on CAMUS.

Here each trained run's selected weights (``best.pt``: best validation MAE on EchoNet) are
loaded back from its run folder and predict every labelled 4-chamber sequence of CAMUS, read
with the EchoNet training split's clip settings
(:func:`supremix.data.echonet.clip_options`). Without a CAMUS copy the CAMUS phantom
(:func:`supremix.data.phantoms.echo.write_camus`: the EchoNet phantom's generator, with
CAMUS's label distribution, its quality classes in its proportions and more noise the poorer
the class) stands in for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from supremix.data import get_dataset
from supremix.data.camus import CAMUS
from supremix.data.echonet import clip_options
from supremix.models import RegressionNet
from supremix.train import predict
from supremix.train.checkpoint import BEST, load_checkpoint
from supremix.train.config import TrainConfig
from supremix.train.data import input_shape, modality_of, targets_of
from supremix.train.experiment import ensure_phantom
from supremix.train.model import build_model, label_statistics

from .adacon_rows import SchemeRow, run_key
from .sweep import Sweep, VariantRun, run_folder

#: Table XIII's subsets (the ``subset`` column of :mod:`supremix.paper`) and the
#: ``ImageQuality`` value of each in CAMUS's ``Info_4CH.cfg``; ``"overall"``: every patient.
QUALITIES = {"good quality": "Good", "medium quality": "Medium", "poor quality": "Poor"}
OVERALL = "overall"
#: Patients of the CAMUS phantom of a smoke run (the phantom's default otherwise).
SMOKE_CAMUS_N = 24


def open_camus(
    echonet_train: Dataset, camus_root: str | Path | None, *, smoke: bool = False
) -> tuple[CAMUS, str]:
    """Every labelled 4-chamber sequence of CAMUS under ``camus_root`` (``None``: the CAMUS
    phantom), read with ``echonet_train``'s clip settings; and ``"real"`` or ``"phantom"``."""
    if camus_root is None:
        root = ensure_phantom("camus", n=SMOKE_CAMUS_N if smoke else None, seed=0)
        kind = "phantom"
    else:
        root, kind = Path(camus_root), "real"
    options = clip_options(echonet_train)  # type: ignore[arg-type]
    return CAMUS(root, "train", view="4CH", all_patients=True, **options), kind


def quality_masks(camus: CAMUS) -> dict[str, np.ndarray]:
    """Table XIII's subsets as boolean masks over ``camus``'s items (:data:`QUALITIES`, then
    :data:`OVERALL`); a quality class absent from the data raises, naming it."""
    quality = np.asarray(camus.quality)
    masks = {}
    for subset, value in QUALITIES.items():
        mask = quality == value
        if not mask.any():
            found = sorted(set(quality.tolist()))
            raise ValueError(
                f"camus: no patient of ImageQuality {value!r} under {camus.root} (found "
                f"{found}); Table XIII needs each of {', '.join(QUALITIES.values())}"
            )
        masks[subset] = mask
    masks[OVERALL] = np.ones(len(quality), dtype=bool)
    return masks


def load_trained_model(folder: str | Path, train_set: Dataset) -> RegressionNet:
    """The model of the run in ``folder`` with its selected weights (``best.pt``), rebuilt from
    the configuration the checkpoint holds; ``train_set`` is the run's training split (input
    shape, modality and label scale)."""
    path = Path(folder) / BEST
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no best.pt; Table XIII evaluates each run's weights of best validation "
            "MAE, which a run without a validation split does not write"
        )
    state = load_checkpoint(path)
    config = TrainConfig.from_dict(state["config"])
    labels = targets_of(train_set)
    mean, std = label_statistics(labels)
    # the checkpoint holds every weight: no download of the starting weights
    kwargs = {k: v for k, v in config.encoder_kwargs.items() if k != "pretrained"}
    model = build_model(
        config.replace(encoder_kwargs=kwargs),
        modality=modality_of(train_set),
        in_channels=input_shape(train_set)[0],
        label_mean=mean,
        label_std=std,
        train_labels=labels,
    )
    model.load_state_dict(state["model"])
    return model.eval()


def camus_sweep(
    sweep: Sweep,
    rows: Sequence[SchemeRow],
    out_dir: str | Path,
    *,
    camus_root: str | Path | None = None,
    smoke: bool = False,
) -> tuple[Sweep, dict[str, np.ndarray]]:
    """Table XIII's rows evaluated on CAMUS: a :class:`Sweep` over CAMUS's items (targets,
    per-run predictions) whose variants are ``rows``, and the masks of Table XIII's subsets
    (:func:`quality_masks`); ``sweep`` trained the rows' runs into ``out_dir``
    (:func:`~supremix.experiments.sweep.run_folder` of each variant and seed)."""
    echonet_train = get_dataset(
        sweep.dataset, sweep.data["root"], "train", **sweep.config.dataset_options
    )
    camus, kind = open_camus(echonet_train, camus_root, smoke=smoke)
    masks = quality_masks(camus)
    index = {run_key(v): i for i, v in enumerate(sweep.variants)}
    gpu = torch.cuda.is_available() and sweep.config.device != "cpu"
    device = (
        sweep.config.device if gpu and sweep.config.device != "auto" else "cuda" if gpu else "cpu"
    )
    result = Sweep(
        dataset="camus",
        preset=sweep.preset,
        config=sweep.config,
        data={"kind": kind, "root": str(camus.root)},
        eval_split="all labelled 4CH",
        targets=np.asarray(camus.targets, dtype=np.float64),
        train_targets=sweep.train_targets,
        variants=[row.variant for row in rows],
        smoke=sweep.smoke,
    )
    for row in rows:
        position = index[run_key(row.variant)]
        for run in sweep.variant_runs(sweep.variants[position].label):
            model = load_trained_model(run_folder(out_dir, position, run.seed), echonet_train)
            outputs = predict(model.to(device), camus, batch_size=sweep.config.batch_size)
            result.runs.append(
                VariantRun(
                    label=row.label,
                    seed=run.seed,
                    metrics=outputs.metrics(),
                    preds=outputs.preds,
                    features=None,
                    seconds=0.0,
                    n_train=run.n_train,
                )
            )
    return result, masks
