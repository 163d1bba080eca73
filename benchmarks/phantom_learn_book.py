"""Does a dataset chapter's phantom learn at the book's defaults?

Runs :func:`supremix.studies.compare_methods` exactly as a dataset notebook does by default
(preset ``<dataset>-cpu`` with the book's phantom settings, every method, seeds 0 and 1, one
torch thread) and prints, per method, the mean test MAE over seeds beside the training-mean
predictor's MAE and the phantom's noise floor (:func:`supremix.phantom_quality.study_quality`),
then the wall time. A fresh cache folder is used unless ``SUPREMIX_CACHE`` is set.

    nice -n 10 .venv/bin/python benchmarks/phantom_learn_book.py rsna [--methods vanilla rnc] \
        [--set phantom_n=640 epochs=12]

Results are appended, one JSON line per run, to ``--out`` when it is given.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from supremix.phantom_quality import study_quality
from supremix.studies import compare_methods, default_methods


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--methods", nargs="*", help="default: the notebook's methods")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1])
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=JSON",
        help="TrainConfig overrides on top of the book's, e.g. phantom_n=640 epochs=12 "
        "dataset_options='{\"image_size\": [48, 40]}'",
    )
    parser.add_argument("--out", type=Path, help="append the result as a JSON line here")
    args = parser.parse_args()
    methods = args.methods or default_methods(args.dataset)
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    with tempfile.TemporaryDirectory() as cache:
        os.environ.setdefault("SUPREMIX_CACHE", cache)
        began = time.perf_counter()
        study = compare_methods(
            args.dataset, methods=methods, seeds=args.seeds, overrides=overrides
        )
        seconds = time.perf_counter() - began
    quality = study_quality(study)
    frame = study.metrics_frame().groupby("variant", sort=False)[["MAE", "seconds"]].mean()
    print(frame.round(3).to_string())
    print(quality.sentence())
    print(f"wall time {seconds:.0f} s for {len(methods)} methods x {len(args.seeds)} seeds")
    if args.out is not None:
        record = {"dataset": args.dataset, "overrides": overrides, "seconds": round(seconds, 1)}
        record.update(quality.as_dict())
        with args.out.open("a") as handle:
            handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
