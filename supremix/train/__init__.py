"""The training engine: contrastive pretraining, linear probe, fine-tuning, vanilla and
multi-task regression (the SupReMix paper, §4.3 and App. C.1, Mixup Your Own Pairs' §4 and App. C.2,
the AdaCon paper's eq. (8)).

>>> from supremix.train import get_preset, run_experiment
>>> result = run_experiment(get_preset("rsna-cpu", method="supremix"), out_dir="runs/rsna")
>>> result.metrics["test"]["mae"]

or, with datasets of your own:

>>> from supremix.train import TrainConfig, train, predict
>>> result = train(TrainConfig(method="supcon", epochs=50), train_set=tr, val_set=va,
...                test_set=te, out_dir="runs/mine")
>>> outputs = predict(result.model, te)   # features, embeddings, preds, targets, ids, groups

Names are imported on first use, so ``import supremix.train.config`` (the command line's
parser) does not load the models, losses and torchvision.
"""

from __future__ import annotations

from typing import Any

from ..extras import import_part

# public name -> submodule of supremix.train that defines it
_EXPORTS = {
    "CONTRASTIVE_METHODS": "config",
    "METHODS": "config",
    "PROTOCOLS": "config",
    "TrainConfig": "config",
    "PRESETS": "presets",
    "default_preset": "presets",
    "get_preset": "presets",
    "atomic_save": "checkpoint",
    "load_checkpoint": "checkpoint",
    "ModelEMA": "ema",
    "RESULTS_JSON": "engine",
    "RunResult": "run_result",
    "train": "engine",
    "Predictions": "evaluation",
    "evaluate": "evaluation",
    "predict": "evaluation",
    "ensure_phantom": "experiment",
    "open_splits": "experiment",
    "run_experiment": "experiment",
    "LabelScale": "model",
    "build_model": "model",
    "build_optimizer": "optim",
    "build_scheduler": "optim",
    "Stage": "protocols",
    "plan_stages": "protocols",
    "ResumeError": "resume",
    "RunFolderError": "run_folder",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_part(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
