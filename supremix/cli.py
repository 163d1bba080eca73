"""The ``supremix`` command: ``train``, ``phantom``, ``presets`` and ``info``.

    supremix train --dataset rsna --method supremix --epochs 4 --out runs/rsna
    supremix train --dataset rsna --method supremix --epochs 4 --out runs/rsna --resume
    supremix train --dataset rsna --data-root /data/rsna --preset rsna --out runs/rsna-paper
    supremix phantom rsna --out /tmp/rsna --n 200 --seed 0
    supremix presets
    supremix info

Without ``--data-root`` a run uses the dataset's phantom (cached; ``results.json`` says
``"kind": "phantom"``) and the ``<dataset>-cpu`` preset; with it, the paper preset of the
dataset. Command-line options override the preset. Under ``torchrun`` every process runs the
same command.

An output folder that holds a previous run is refused unless ``--resume`` continues it or
``--overwrite`` replaces it; the device, the folder and a resumed ``last.pt`` are checked
before any data are loaded (``supremix.train.run_folder``). Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import supremix

EXIT_USAGE = 2
EXIT_FAILURE = 1

# option name -> TrainConfig field, for options that override a preset
OVERRIDES = {
    "method": "method",
    "protocol": "protocol",
    "epochs": "epochs",
    "probe_epochs": "probe_epochs",
    "warmup_epochs": "warmup_epochs",
    "batch_size": "batch_size",
    "lr": "lr",
    "weight_decay": "weight_decay",
    "temperature": "temperature",
    "window": "window",
    "gamma_con": "gamma_con",
    "label_bin": "label_bin",
    "regression_loss": "regression_loss",
    "encoder": "encoder",
    "model_size": "model_size",
    "augment": "augment",
    "amp": "amp",
    "device": "device",
    "seed": "seed",
    "num_workers": "num_workers",
    "checkpoint_every": "checkpoint_every",
    "phantom_n": "phantom_n",
    "phantom_seed": "phantom_seed",
    "mixup": "mixup",
    "mixup_alpha": "mixup_alpha",
    "cmixup_sigma": "cmixup_sigma",
}

NumberT = TypeVar("NumberT", int, float)


def _checked(
    parse: Callable[[str], NumberT], expected: str, accept: Callable[[NumberT], bool]
) -> Callable[[str], NumberT]:
    """An argparse ``type``: ``parse`` the text and ``accept`` the value, else one line saying
    what was ``expected``."""

    def checked(text: str) -> NumberT:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value

    return checked


_positive_int = _checked(int, "a positive integer", lambda value: value >= 1)
_non_negative_int = _checked(int, "an integer >= 0", lambda value: value >= 0)
_positive_float = _checked(float, "a positive number", lambda value: value > 0)


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got ''")
    return Path(text)


def _key_value(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as JSON when it parses (numbers, lists), else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    if isinstance(parsed, list):
        parsed = tuple(parsed)
    return key, parsed


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``supremix`` command."""
    from supremix.data import LOADERS
    from supremix.data.phantoms import PHANTOMS
    from supremix.train.config import (
        AMP_MODES,
        AUGMENT_MODES,
        METHODS,
        MIXUP_MODES,
        PROTOCOLS,
        REGRESSION_LOSSES,
    )

    parser = argparse.ArgumentParser(
        prog="supremix",
        description="SupReMix: supervised contrastive learning for regression with mixup.",
    )
    parser.add_argument("--version", action="version", version=f"supremix {supremix.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "train",
        help="train and evaluate one method on one dataset",
        description="Train a protocol and write OUT/results.json, metrics.csv and checkpoints.",
    )
    run.add_argument("--dataset", choices=sorted(LOADERS), help="dataset name")
    run.add_argument(
        "--data-root",
        type=Path,
        help="the dataset in its official layout; omitted: a cached phantom (airfoil: "
        "$SUPREMIX_DATA)",
    )
    run.add_argument(
        "--out",
        type=_folder,
        required=True,
        help="output folder; one that holds a previous run needs --resume or --overwrite",
    )
    run.add_argument(
        "--preset",
        help="named configuration (see 'supremix presets'); default: <dataset>-cpu without "
        "--data-root, else <dataset>",
    )
    run.add_argument("--method", choices=METHODS)
    run.add_argument("--protocol", choices=PROTOCOLS)
    run.add_argument("--epochs", type=_positive_int, help="(pre)training epochs")
    run.add_argument("--probe-epochs", type=_positive_int, help="linear probe / fine-tune epochs")
    run.add_argument("--warmup-epochs", type=_non_negative_int)
    run.add_argument("--batch-size", type=_positive_int, help="global batch size")
    run.add_argument("--lr", type=_positive_float)
    run.add_argument("--weight-decay", type=float)
    run.add_argument("--temperature", type=_positive_float)
    run.add_argument("--window", type=_positive_float, help="SupReMix window, in label units")
    run.add_argument("--gamma-con", type=float, help="contrastive weight of the multitask loss")
    run.add_argument(
        "--label-bin", type=_positive_float, help="bin size of the contrastive loss's labels"
    )
    run.add_argument("--regression-loss", choices=REGRESSION_LOSSES)
    run.add_argument("--encoder", help="encoder name (supremix.models.ENCODERS)")
    run.add_argument("--model-size", choices=("cpu", "paper"))
    run.add_argument("--augment", choices=AUGMENT_MODES)
    run.add_argument("--amp", choices=AMP_MODES)
    run.add_argument("--device", help="auto, cpu, cuda, cuda:1, mps")
    run.add_argument("--seed", type=int)
    run.add_argument("--num-workers", type=_non_negative_int)
    run.add_argument("--checkpoint-every", type=_positive_int)
    run.add_argument("--phantom-n", type=_positive_int, help="phantom size (no --data-root)")
    run.add_argument("--phantom-seed", type=int)
    run.add_argument(
        "--option",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="dataset loader option, e.g. --option image_size=[256,200] (repeatable)",
    )
    run.add_argument(
        "--use-groups", action="store_true", help="SupReMix mixes within groups (sex, §5.7)"
    )
    run.add_argument(
        "--cache-items", action="store_true", help="serve decoded items from a one-time cache"
    )
    run.add_argument(
        "--lds", action="store_true", help="LDS loss weights (the SupReMix paper, App. D.3)"
    )
    run.add_argument("--fds", action="store_true", help="FDS feature calibration (App. D.3)")
    run.add_argument("--mixup", choices=MIXUP_MODES, help="mixup baseline (App. D.5-D.6)")
    run.add_argument("--mixup-alpha", type=_positive_float, help="lambda ~ Beta(a, a)")
    run.add_argument("--cmixup-sigma", type=_positive_float, help="C-Mixup width, label units")
    again = run.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    again.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run in OUT (its files are replaced when this run succeeds)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bars")

    phantom = commands.add_parser(
        "phantom",
        help="write a synthetic dataset in a dataset's official layout",
        description="Write the phantom of NAME under OUT, readable by get_dataset(NAME, OUT).",
    )
    phantom.add_argument("name", choices=sorted(PHANTOMS))
    phantom.add_argument("--out", type=_folder, required=True, help="an empty or new folder")
    phantom.add_argument(
        "--overwrite", action="store_true", help="write into OUT even if it is not empty"
    )
    phantom.add_argument("--n", type=_positive_int, help="number of items (writer's default)")
    phantom.add_argument("--seed", type=int, default=0)

    commands.add_parser("presets", help="list the named configurations")
    commands.add_parser("info", help="versions, device, data and cache locations")
    return parser


def _config_from_args(args: argparse.Namespace) -> Any:
    from supremix.train.presets import default_preset, get_preset

    if args.preset is None and args.dataset is None:
        raise ValueError("give --dataset (or a --preset that names one)")
    preset = args.preset or default_preset(args.dataset, cpu=args.data_root is None)
    changes: dict[str, Any] = {
        field: getattr(args, option)
        for option, field in OVERRIDES.items()
        if getattr(args, option) is not None
    }
    if args.dataset is not None:
        changes["dataset"] = args.dataset
    if args.no_progress:
        changes["progress"] = False
    if args.use_groups:
        changes["use_groups"] = True
    if args.cache_items:
        changes["cache_items"] = True
    for flag in ("lds", "fds"):
        if getattr(args, flag):
            changes[flag] = True
    config = get_preset(preset)
    if args.option:
        changes["dataset_options"] = {**config.dataset_options, **dict(args.option)}
    return config.replace(**changes)


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from supremix.data import DatasetContentError, DatasetLayoutError
    from supremix.train.device_check import device_problem
    from supremix.train.engine import RESULTS_JSON, train
    from supremix.train.experiment import open_splits
    from supremix.train.resume import read_resume_file
    from supremix.train.run_folder import LAST, RunFolderError, check_run_folder

    try:
        config = _config_from_args(args)
    except ValueError as error:
        parser.exit(EXIT_USAGE, f"supremix train: error: {error}\n")
    problem = device_problem(config.device)
    if problem is not None:
        parser.exit(EXIT_FAILURE, f"supremix train: error: {problem}\n")
    try:  # the output folder is checked before any data are loaded
        out = check_run_folder(args.out, resume=args.resume, overwrite=args.overwrite)
        if args.resume and (out / LAST).is_file():
            read_resume_file(out / LAST)
    except RunFolderError as error:
        parser.exit(EXIT_FAILURE, f"supremix train: error: {error}\n")
    try:
        splits, info = open_splits(config, args.data_root)
        train_set = splits["train"]
        if train_set is None:
            raise ValueError("the dataset has no training split to train on")
    except (DatasetLayoutError, DatasetContentError, FileNotFoundError, TypeError, ValueError) as e:
        parser.exit(EXIT_FAILURE, f"supremix train: cannot open {config.dataset}: {e}\n")
    try:
        result = train(
            config,
            train_set=train_set,
            val_set=splits["val"],
            test_set=splits["test"],
            out_dir=args.out,
            resume=args.resume,
            overwrite=args.overwrite,
            data_info=info,
        )
    except (ValueError, FloatingPointError) as error:
        parser.exit(EXIT_FAILURE, f"supremix train: error: {error}\n")
    if os.environ.get("RANK", "0") != "0":  # under torchrun, one process reports
        return 0
    split = "test" if "test" in result.metrics else "val"
    metrics = result.metrics.get(split, {})
    shown = ", ".join(
        f"{k} {metrics[k]:.4g}" for k in ("mae", "mse", "gm", "pearson") if k in metrics
    )
    print(f"{config.method} on {config.dataset} ({info['kind']}): {split} {shown}")
    if "test_unavailable" in info:
        print(f"no test metrics: {info['test_unavailable']}")
    print(f"results: {Path(args.out) / RESULTS_JSON}")
    return 0


def _phantom(args: argparse.Namespace) -> int:
    from supremix.data.phantoms import write_phantom

    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"{args.out} is a file, not a folder")
    if args.out.is_dir() and not args.overwrite:
        entries = sorted(p.name for p in args.out.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            raise ValueError(
                f"{args.out} is not empty ({len(entries)} entries: {shown}); choose an empty "
                "folder or write over its files with --overwrite"
            )
    out = write_phantom(args.name, args.out, n=args.n, seed=args.seed)
    print(f"wrote the {args.name} phantom to {out}")
    return 0


def _presets() -> int:
    from supremix.train.presets import PRESETS

    for name, config in PRESETS.items():
        print(
            f"{name:14s} dataset={config.dataset} method={config.method} "
            f"protocol={config.protocol} epochs={config.epochs} batch={config.batch_size} "
            f"lr={config.lr:g} t={config.temperature:g} window={config.window:g} "
            f"encoder={config.encoder or config.model_size + ' default'} [{config.source}]"
        )
    return 0


def info_lines() -> list[str]:
    """What ``supremix info`` prints."""
    import numpy as np
    import torch
    import torchvision

    from supremix.data import LOADERS
    from supremix.data.cache import default_cache_dir
    from supremix.data.phantoms import PHANTOMS
    from supremix.train.distributed import resolve_device
    from supremix.train.provenance import device_description, git_commit

    device = resolve_device("auto")
    described = device_description(device)
    git = git_commit()
    version = "not a git checkout"
    if git is not None:
        version = git["commit"][:12] + (" (modified)" if git["dirty"] else "")
    lines = [
        f"supremix     {supremix.__version__} ({Path(supremix.__file__).parent})",
        f"git          {version}",
        f"python       {platform.python_version()} ({sys.executable})",
        f"torch        {torch.__version__} (CUDA {torch.version.cuda})",
        f"torchvision  {torchvision.__version__}",
        f"numpy        {np.__version__}",
        f"device       {device} - {described['name']}",
        f"data         SUPREMIX_DATA={os.environ.get('SUPREMIX_DATA') or '(not set)'}",
        f"cache        {default_cache_dir()} (SUPREMIX_CACHE to change)",
        f"phantoms     {default_cache_dir() / 'phantoms'}",
        f"datasets     {', '.join(sorted(LOADERS))}",
        f"with phantom {', '.join(sorted(PHANTOMS))}",
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``supremix`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        return _train(args, parser)
    if args.command == "phantom":
        try:
            return _phantom(args)
        except (OSError, ValueError) as error:
            parser.exit(EXIT_FAILURE, f"supremix phantom: error: {error}\n")
    if args.command == "presets":
        return _presets()
    print("\n".join(info_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
