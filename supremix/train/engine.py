"""``train()``: one run of a protocol, from initialisation to ``results.json``.

The output folder holds ``last.pt`` (the resume point, written every ``checkpoint_every``
epochs and at the end of every stage), ``best.pt`` (the EMA weights with the best validation
MAE of the final stage), ``metrics.csv`` (one row per epoch) and ``results.json`` (test and
validation metrics of the selected weights, the configuration and the provenance). All files
are written atomically by the main process, which holds the folder (:mod:`.run_folder`).
``resume=True`` continues from ``last.pt`` with the model, optimiser, schedule, gradient
scaler, EMA and every random state of the interrupted run, so it ends where an uninterrupted
run ends; on the same data only (:mod:`.fingerprint`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import nn
from torch.utils.data import Dataset, DistributedSampler

from supremix.imbalance import LDSWeights

from . import provenance
from .checkpoint import BEST, LAST, load_checkpoint
from .config import TrainConfig
from .data import (
    augmentations,
    dataset_length,
    encoder_inputs_of,
    input_shape,
    modality_of,
    per_process_batch,
    targets_of,
    train_loader,
)
from .device_check import check_device
from .distributed import (
    DistEnv,
    all_gather_objects,
    barrier,
    convert_sync_batchnorm,
    setup,
    sum_over_processes,
    teardown,
    wrap_model,
)
from .ema import ModelEMA
from .evaluation import Predictions, predict
from .fingerprint import dataset_fingerprint
from .history import METRICS_CSV, History
from .loop import EpochContext, OptimizerStep, train_epoch
from .model import build_model, label_statistics, load_encoder_weights, set_trainable
from .objective import stage_objective
from .optim import build_optimizer, build_scheduler
from .precision import Precision, choose_precision
from .protocols import Augmentation, BatchObserver, Stage, plan_stages
from .resume import CHECKPOINT_FORMAT, read_resume_point
from .rng import (
    RunGenerators,
    global_rng_state,
    seed_everything,
    set_determinism,
    set_global_rng_state,
)
from .run_folder import RESULTS_JSON, claimed_run_folder
from .run_result import RunResult

AUGMENT_FROM_CONFIG = "config"

EpochCallback = Callable[[dict[str, Any]], None]


def train(
    config: TrainConfig,
    *,
    train_set: Dataset,
    val_set: Dataset | None = None,
    test_set: Dataset | None = None,
    out_dir: str | Path,
    resume: bool = False,
    overwrite: bool = False,
    augment: Augmentation | str | None = AUGMENT_FROM_CONFIG,
    data_info: Mapping[str, Any] | None = None,
    callbacks: Sequence[EpochCallback] = (),
    batch_observers: Sequence[BatchObserver] = (),
) -> RunResult:
    """Train ``config``'s protocol on ``train_set`` and evaluate on ``val_set``/``test_set``.

    ``augment``: by default the recipe ``config.augment`` for the dataset's modality; a
    callable ``(x, generator) -> x`` applied on the device to every training batch replaces it,
    ``None`` disables augmentation. ``data_info`` is recorded under ``dataset`` in
    ``results.json`` (e.g. ``{"kind": "phantom"}``). ``callbacks`` are called on every
    process after each epoch with that epoch's metrics row, once its checkpoint is written;
    ``batch_observers`` on every contrastive step with its embeddings and labels
    (:data:`~.protocols.BatchObserver`).
    Under ``torchrun`` each process calls :func:`train` and the process group is set up here.
    ``out_dir`` holding a previous run is refused unless ``resume=True`` (continue from its
    ``last.pt``; without one, a fresh run) or ``overwrite=True`` (replace it when this run
    succeeds): see :mod:`~.run_folder`.
    """
    check_device(config.device)
    env = setup(config.device)
    try:
        run = _Run(
            config,
            env,
            train_set=train_set,
            val_set=val_set,
            test_set=test_set,
            out_dir=Path(out_dir),
            augment=augment,
            data_info=dict(data_info or {}),
            callbacks=list(callbacks),
            batch_observers=tuple(batch_observers),
        )
        return run.execute(resume=resume, overwrite=overwrite)
    finally:
        teardown(env)


class _Run:
    """The state of one :func:`train` call."""

    def __init__(
        self,
        config: TrainConfig,
        env: DistEnv,
        *,
        train_set: Dataset,
        val_set: Dataset | None,
        test_set: Dataset | None,
        out_dir: Path,
        augment: Augmentation | str | None,
        data_info: dict[str, Any],
        callbacks: list[EpochCallback],
        batch_observers: tuple[BatchObserver, ...] = (),
    ):
        self.config, self.env = config, env
        self.train_set, self.val_set, self.test_set = train_set, val_set, test_set
        self.out_dir = out_dir
        self.callbacks = callbacks
        self.batch_observers = batch_observers
        self.started = provenance.now_iso()
        self.clock = time.perf_counter()
        self.previous_wall_time = 0.0
        self.history = History()
        self.best: dict[str, Any] | None = None

        self.modality = modality_of(train_set)
        shape = input_shape(train_set)
        self.train_labels = targets_of(train_set)
        if isinstance(augment, str):
            if augment != AUGMENT_FROM_CONFIG:
                raise ValueError(
                    f"augment must be a callable, None or {AUGMENT_FROM_CONFIG!r}, got {augment!r}"
                )
            self.contrastive_augment, self.regression_augment = augmentations(
                config, self.modality, shape
            )
        else:
            self.contrastive_augment = self.regression_augment = augment
        self.data_info = {
            "name": config.dataset or getattr(train_set, "name", None),
            "modality": self.modality,
            "input_shape": list(shape),
            "n_train": dataset_length(train_set),
            "n_val": None if val_set is None else dataset_length(val_set),
            "n_test": None if test_set is None else dataset_length(test_set),
            **data_info,
        }
        self.fingerprint = dataset_fingerprint(
            {"train": train_set, "val": val_set, "test": test_set}, data_info.get("root")
        )

        set_determinism(config.deterministic, env.device)
        seed_everything(config.seed)
        mean, std = label_statistics(self.train_labels)
        model = build_model(
            config,
            modality=self.modality,
            in_channels=shape[0],
            label_mean=mean,
            label_std=std,
            train_labels=self.train_labels,
            data_inputs=encoder_inputs_of(train_set),
        )
        if config.init_encoder is not None:
            load_encoder_weights(model, config.init_encoder)
        self.model = convert_sync_batchnorm(model, env).to(env.device)
        self.precision: Precision = choose_precision(config.amp, env.device)
        self.generators = RunGenerators.create(config.seed, env.rank, env.device)
        self.stages = plan_stages(config)
        self.lds = None
        if config.lds:
            self.lds = LDSWeights.fit(
                self.train_labels,
                bin_size=config.imbalance_bin,
                reweight=config.lds_reweight,
                **config.smoothing(),
            ).to(env.device)
        self.eval_batch = per_process_batch(config.batch_size, env)

    # ---------------------------------------------------------------- checkpoints
    def _rng_states(self) -> list[dict[str, Any]]:
        state = {"global": global_rng_state(), "generators": self.generators.state_dict()}
        return all_gather_objects(state, self.env)

    def _wall_time(self) -> float:
        return self.previous_wall_time + time.perf_counter() - self.clock

    def _save_last(self, stage_index: int, epoch: int, ctx: EpochContext) -> None:
        rng = self._rng_states()
        if not self.env.is_main:
            return
        state = {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "data": self.fingerprint,
            "stage": stage_index,
            "stage_name": self.stages[stage_index].name,
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": ctx.step.optimizer.state_dict(),
            "scheduler": ctx.step.scheduler.state_dict(),
            "precision": self.precision.state_dict(),
            "ema": ctx.step.ema.state_dict(),
            "best": self.best,
            "history": self.history.state_dict(),
            "rng": rng,
            "wall_time_s": self._wall_time(),
        }
        self.folder.save(state, LAST)

    def _save_best(self, stage_index: int, epoch: int, ema: ModelEMA, val: dict) -> None:
        self.best = {"stage": stage_index, "epoch": epoch, "val_mae": val["mae"]}
        if self.env.is_main:
            state = {
                "format": CHECKPOINT_FORMAT,
                "config": self.config.to_dict(),
                **self.best,
                "val": val,
                "model": ema.module.state_dict(),
            }
            self.folder.save(state, BEST)

    def _load_resume_point(self) -> dict[str, Any] | None:
        path = self.out_dir / LAST
        if not path.is_file():
            return None
        state = read_resume_point(
            path, config=self.config, world_size=self.env.world_size, data=self.fingerprint
        )
        self.model.load_state_dict(state["model"])
        self.history = History(state["history"])
        self.best = state["best"]
        self.previous_wall_time = float(state["wall_time_s"])
        return state

    def _restore_rng(self, state: dict[str, Any]) -> None:
        mine = state["rng"][self.env.rank]
        set_global_rng_state(mine["global"])
        self.generators.load_state_dict(mine["generators"])

    # ---------------------------------------------------------------- stages
    def _stage_context(self, stage: Stage) -> EpochContext:
        config = self.config
        set_trainable(
            self.model,
            encoder=stage.train_encoder,
            projection_head=stage.train_head,
            regressor=stage.train_regressor,
        )
        probe = config.has_second_stage and not stage.contrastive
        batch = config.probe_batch_size if probe and config.probe_batch_size else None
        loader = train_loader(
            self.train_set, config, self.env, self.generators.loader, batch_size=batch
        )
        steps = len(loader)
        optimizer = build_optimizer(
            self.model,
            lr=stage.lr,
            weight_decay=config.weight_decay,
            betas=config.betas,
            eps=config.eps,
            optimizer=config.optimizer,
            momentum=config.momentum,
        )
        every = None if config.lr_decay_every is None else config.lr_decay_every * steps
        scheduler = build_scheduler(
            optimizer,
            warmup_steps=stage.warmup_epochs * steps,
            total_steps=stage.epochs * steps,
            lr=stage.lr,
            min_lr=stage.min_lr,
            decay_every_steps=every,
            decay_factor=config.lr_decay_factor,
        )
        objective = stage_objective(
            stage,
            config,
            model=self.model,
            net=wrap_model(self.model, self.env),
            train_labels=self.train_labels,
            contrastive_augment=self.contrastive_augment,
            regression_augment=self.regression_augment,
            lds=self.lds,
            augment_generator=self.generators.augment,
            loss_generator=self.generators.loss,
            autocast=self.precision.autocast,
            observers=self.batch_observers,
        )
        step = OptimizerStep(
            self.model,
            optimizer,
            scheduler,
            ModelEMA(self.model, config.ema_decay),
            grad_clip=config.grad_clip,
            scaler=self.precision.scaler,
        )
        return EpochContext(objective, step, loader, self.env, config.use_groups, config.progress)

    def _predict(self, model: nn.Module, dataset: Dataset) -> Predictions:
        return predict(
            model,
            dataset,
            batch_size=self.eval_batch,
            device=self.env.device,
            num_workers=self.config.num_workers,
            env=self.env,
            autocast=self.precision.autocast,
        )

    def _run_stage(self, index: int, ctx: EpochContext, first_epoch: int) -> None:
        stage, config = self.stages[index], self.config
        final_stage = index == len(self.stages) - 1
        offset = sum(s.epochs for s in self.stages[:index])
        for epoch in range(first_epoch + 1, stage.epochs + 1):
            tick = time.perf_counter()
            sampler = ctx.loader.sampler
            if not isinstance(sampler, DistributedSampler):
                raise TypeError(
                    f"stage {stage.name}: the training loader's sampler is a "
                    f"{type(sampler).__name__}; expected a DistributedSampler (train_loader)"
                )
            sampler.set_epoch(offset + epoch - 1)
            try:
                stats = train_epoch(ctx, f"stage {stage.name}, epoch {epoch}/{stage.epochs}")
            except FloatingPointError as error:
                raise FloatingPointError(f"{error}; {self.folder.kept_after_failure()}") from None
            self._update_fds(ctx)
            row: dict[str, Any] = {
                "stage": stage.name,
                "epoch": epoch,
                "step": epoch * len(ctx.loader),
                "lr": stats.pop("lr"),
                "train_loss": stats.pop("loss"),
                **stats,
            }
            evaluate_now = epoch % config.eval_every == 0 or epoch == stage.epochs
            if stage.regression and self.val_set is not None and evaluate_now:
                try:
                    val = self._predict(ctx.step.ema.module, self.val_set).metrics()
                except ValueError as error:  # non-finite predictions
                    where = f"stage {stage.name}, epoch {epoch}: the validation predictions"
                    cause = "check the validation data, else lower the learning rate"
                    kept = self.folder.kept_after_failure()
                    raise ValueError(f"{where}: {error} ({cause}); {kept}") from None
                row.update({f"val_{k}": v for k, v in val.items()})
                if final_stage and (self.best is None or val["mae"] < self.best["val_mae"]):
                    self._save_best(index, epoch, ctx.step.ema, val)
            row["epoch_time_s"] = round(time.perf_counter() - tick, 3)
            self.history.append(row)
            if epoch == stage.epochs and not final_stage:
                # The next stage starts from the averaged weights (the SupReMix paper, App. C.1.2).
                self.model.load_state_dict(ctx.step.ema.module.state_dict())
            if epoch % config.checkpoint_every == 0 or epoch == stage.epochs:
                self._save_last(index, epoch, ctx)
            if self.env.is_main:
                self.folder.write_text(self.history.to_csv(), METRICS_CSV)
            self._report(row)
            for callback in self.callbacks:
                callback(dict(row))

    def _update_fds(self, ctx: EpochContext) -> None:
        """Fold the epoch's feature statistics, summed over processes, into the FDS layer
        (once per epoch, Yang et al. 2021)."""
        moments = ctx.objective.fds_moments.pop()
        if moments is None:
            return
        fds = ctx.objective.fds
        if fds is None:
            raise RuntimeError("FDS feature statistics were collected without an FDS layer")
        fds.update_from_moments(*(sum_over_processes(m, self.env) for m in moments))

    def _report(self, row: dict[str, Any]) -> None:
        if not (self.config.progress and self.env.is_main):
            return
        shown = {k: row[k] for k in ("train_loss", "val_mae") if k in row}
        text = " ".join(f"{k}={v:.4g}" for k, v in shown.items())
        print(f"[{row['stage']} {row['epoch']}] {text}", flush=True)

    # ---------------------------------------------------------------- whole run
    def execute(self, *, resume: bool, overwrite: bool) -> RunResult:
        with claimed_run_folder(
            self.out_dir, resume=resume, overwrite=overwrite, env=self.env
        ) as self.folder:
            return self._execute(resume)

    def _execute(self, resume: bool) -> RunResult:
        state = self._load_resume_point() if resume else None
        start_stage, start_epoch = 0, 0
        if state is not None:
            start_stage, start_epoch = state["stage"], state["epoch"]
            if start_epoch == self.stages[start_stage].epochs:
                start_stage, start_epoch = start_stage + 1, 0
        ctx = None
        for index in range(start_stage, len(self.stages)):
            ctx = self._stage_context(self.stages[index])
            if state is not None and index == state["stage"]:
                ctx.step.optimizer.load_state_dict(state["optimizer"])
                ctx.step.scheduler.load_state_dict(state["scheduler"])
                self.precision.load_state_dict(state["precision"])
                ctx.step.ema.load_state_dict(state["ema"])
            if state is not None and index == start_stage:
                self._restore_rng(state)
            self._run_stage(index, ctx, start_epoch if index == start_stage else 0)
        if ctx is None:  # resumed a finished run
            if state is None:
                raise ValueError("the run has no training stages")
            final = ModelEMA(self.model, self.config.ema_decay)
            final.load_state_dict(state["ema"])
        else:
            final = ctx.step.ema
        return self._finish(final, resumed_from=state)

    def _finish(self, ema: ModelEMA, resumed_from: dict[str, Any] | None) -> RunResult:
        model = ema.module
        selected = {
            "stage": self.stages[-1].name,
            "epoch": self.stages[-1].epochs,
            "by": "last epoch",
        }
        if self.best is not None:
            best = load_checkpoint(self.folder.file(BEST), map_location=self.env.device)
            model.load_state_dict(best["model"])
            selected = {
                "stage": self.stages[best["stage"]].name,
                "epoch": best["epoch"],
                "by": "best validation MAE",
            }
        model.eval()
        metrics = {}
        for split, dataset in (("val", self.val_set), ("test", self.test_set)):
            if dataset is not None:
                try:
                    metrics[split] = self._predict(model, dataset).metrics()
                except ValueError as error:
                    kept = self.folder.kept_after_failure()
                    raise ValueError(f"the {split} predictions: {error}; {kept}") from None
        results = {
            **metrics,
            "selected": selected,
            "method": self.config.method,
            "protocol": self.config.protocol if self.config.method != "vanilla" else "vanilla",
            "dataset": self.data_info,
            "config": self.config.to_dict(),
            "provenance": provenance.collect(
                device=self.env.device,
                world_size=self.env.world_size,
                precision=self.precision.name,
                started=self.started,
                wall_time_s=self._wall_time(),
            ),
            "files": {
                "metrics": METRICS_CSV,
                "last_checkpoint": LAST,
                "best_checkpoint": BEST if self.best is not None else None,
            },
            "resumed_from": (
                None
                if resumed_from is None
                else {"stage": resumed_from["stage_name"], "epoch": resumed_from["epoch"]}
            ),
        }
        if self.env.is_main:
            self.folder.write_json(results, RESULTS_JSON)
        barrier(self.env)
        return RunResult(
            model=model,
            config=self.config,
            metrics=metrics,
            history=self.history.state_dict(),
            out_dir=self.out_dir,
            results=results,
        )
