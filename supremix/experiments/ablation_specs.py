"""The ablations of seed 001 as data: which runs reproduce which row of which table.

Seven experiments of seed 001 change one thing of a SupReMix run and report a metric per
setting (§5.8 and App. D.2, D.4-D.6). Each is an :class:`Ablation`: its table, the datasets the
table reports, and per dataset the rows as :class:`~supremix.experiments.sweep.Variant`
(label, the :class:`~supremix.train.TrainConfig` fields the row sets, the paper's row as
:class:`~supremix.experiments.sweep.PaperRow`). :data:`ABLATIONS` holds them by name;
:func:`supremix.experiments.ablations.run_ablation` runs one.

Every run starts from ``method="supremix"`` with the dataset's settings
(:func:`supremix.studies.study_config`); a row's overrides are all it changes. How each table
maps onto those fields, and what had to be inferred, is in the docstring of the constant that
builds its rows (:data:`COMPONENTS`, :data:`WINDOWS`, :data:`BETAS`, :data:`BATCH_SIZES`,
:data:`BIN_SIZES`, :data:`CMIXUP`, :data:`PAIR_SELECTION`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from supremix.paper import reference_label

from .sweep import PaperRow, Variant

#: Every run of an ablation: SupReMix, with the dataset's settings.
BASE_OVERRIDES: dict[str, Any] = {"method": "supremix"}

#: ``phantom_row(variant, smoke) -> variant``: the row as run with the book's CPU settings,
#: where the paper's setting cannot be (e.g. a batch larger than the phantom's training set).
PhantomRow = Callable[[Variant, bool], Variant]


@dataclass(frozen=True)
class Ablation:
    """One ablation table: ``rows`` maps each dataset the table reports to its rows (paper
    settings), ``default_datasets`` are those a notebook runs unless told otherwise (chosen
    for the book's time budget), ``phantom_row`` rewrites a row for the ``-cpu`` presets where
    the paper's setting does not fit the phantom, and ``mapping`` says, in Markdown, how the
    rows map onto :class:`~supremix.train.TrainConfig` and what had to be inferred."""

    name: str
    table: str
    title: str
    rows: Mapping[str, tuple[Variant, ...]]
    default_datasets: tuple[str, ...]
    mapping: str
    seed: int = 1
    metric: str = "MAE"
    overrides: Mapping[str, Any] = field(default_factory=lambda: dict(BASE_OVERRIDES))
    phantom_row: PhantomRow | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.default_datasets) - set(self.rows))
        if unknown:
            raise ValueError(f"{self.name}: default datasets {unknown} have no rows")

    @property
    def datasets(self) -> tuple[str, ...]:
        """Every dataset the table reports, in the table's order."""
        return tuple(self.rows)

    @property
    def reference(self) -> str:
        """The table as the book names it, e.g. ``"seed 001 Table 10"``."""
        return reference_label(self.seed, self.table)

    def labels(self, dataset: str | None = None) -> list[str]:
        """Row labels of ``dataset``, or of every dataset (each label once, in order)."""
        datasets = self.datasets if dataset is None else (self._check_dataset(dataset),)
        return list(dict.fromkeys(v.label for d in datasets for v in self.rows[d]))

    def variants(
        self,
        dataset: str,
        *,
        methods: Sequence[str] | None = None,
        phantom: bool = False,
        smoke: bool = False,
    ) -> list[Variant]:
        """The rows of ``dataset`` to run: all, or those labelled in ``methods``; with
        ``phantom`` (the book's ``-cpu`` settings) rewritten by :attr:`phantom_row`, whose
        ``smoke`` form fits the smoke phantom."""
        rows = self.rows[self._check_dataset(dataset)]
        if methods is not None:
            rows = tuple(v for v in rows if v.label in methods)
        if phantom and self.phantom_row is not None:
            rows = tuple(self.phantom_row(v, smoke) for v in rows)
        return list(rows)

    def _check_dataset(self, dataset: str) -> str:
        if dataset not in self.rows:
            raise ValueError(
                f"{self.name} ({self.reference}) has no rows for dataset {dataset!r}; "
                f"expected one of {', '.join(self.datasets)}"
            )
        return dataset


def _switches(mix_neg: bool, mix_pos: bool, distance_weight: bool) -> dict[str, bool]:
    return {"mix_neg": mix_neg, "mix_pos": mix_pos, "distance_weight": distance_weight}


#: Seed 001 Table 9 (§5.8, RSNA): SupReMix's ingredients added to SupCon one by one. "DM" is the
#: distance magnifying weight ``1 + |y_i - y_a|`` on every denominator term (eq. (5),
#: ``distance_weight``); "Mix-neg" the anchor-inclusive mixtures of eqs. (1)-(2) added to the
#: negatives (``mix_neg``); Mix-pos (eqs. (3)-(4), ``mix_pos``) appears only in the full
#: SupReMix row. So "SupCon+Mix-neg" has SupCon's positives (real views of equal label) and
#: real + Mix-neg negatives without weights; "+DM" adds the weights. Every row is the SupReMix
#: loss with these switches (all off is exactly SupCon's loss), states all three, and keeps
#: every other setting, so rows differ only in the loss.
COMPONENTS: tuple[Variant, ...] = (
    Variant("SupCon", _switches(False, False, False), PaperRow("SupCon")),
    Variant("SupCon+DM", _switches(False, False, True), PaperRow("SupCon + DM")),
    Variant("SupCon+Mix-neg", _switches(True, False, False), PaperRow("SupCon + Mix-neg")),
    Variant("SupCon+Mix-neg+DM", _switches(True, False, True), PaperRow("SupCon + Mix-neg + DM")),
    Variant("SupReMix", _switches(True, True, True), PaperRow("SupReMix")),
)


def _window_rows(values: Sequence[tuple[str, float]]) -> tuple[Variant, ...]:
    return tuple(
        Variant(label, {"window": value}, PaperRow("SupReMix", label)) for label, value in values
    )


#: Seed 001 Table 10 (§5.8): the Mix-pos window γ, in label units (months for RSNA, years for
#: UK Biobank); ``window=math.inf`` is γ = ∞ (every lower and every higher label of the batch
#: forms Mix-pos). A Mix-pos pair needs ``y_i - γ <= y_j < y_i < y_k <= y_i + γ`` (inclusive,
#: as eq. (4) prints it; book page "The SupReMix loss, specified"), so every RSNA row is a
#: different loss on whole-month labels. With the published code's strict window
#: (``window_edges="strict"``) γ = 1 would admit no pair and be SupCon + Mix-neg + DM (Table 9
#: gives 4.85 for that and Table 10 gives 4.86 for γ = 1). On whole-number labels (UK
#: Biobank's field 21003 in years, and both phantoms) the UK Biobank rows γ = 0.2 and 0.5 admit
#: no pair and are the same loss.
WINDOWS: dict[str, tuple[Variant, ...]] = {
    "rsna": _window_rows(
        [("γ=1", 1.0), ("γ=3", 3.0), ("γ=5", 5.0), ("γ=10", 10.0), ("γ=∞", math.inf)]
    ),
    "ukb": _window_rows(
        [("γ=0.2", 0.2), ("γ=0.5", 0.5), ("γ=1.0", 1.0), ("γ=2.0", 2.0), ("γ=∞", math.inf)]
    ),
}

#: The Beta(α, β) of Table 11's three rows, in the table's order. The seed's table lost its row
#: labels (the stored rows say "label missing"); the text of §5.8 names Beta(2,8), Beta(8,2)
#: and Beta(5,5) in that order, says Beta(2,8) is best on all six datasets (the first row is
#: the lowest in every column) and seed 002 Table 11 lists the same three in the same order.
#: The order is therefore inferred, not read.
TABLE_11_ORDER: tuple[tuple[float, float], ...] = ((2.0, 8.0), (8.0, 2.0), (5.0, 5.0))

#: Seed 001 Table 11 (§5.8): Beta(α, β) of the Mix-neg coefficient λ1 (``beta_params``; λ1
#: weights the anchor, so Beta(2,8) keeps Mix-neg close to the negative, Beta(8,2) close to the
#: anchor). Rows as :data:`TABLE_11_ORDER` infers them.
BETAS: tuple[Variant, ...] = tuple(
    Variant(
        f"Beta({a:g},{b:g})",
        {"beta_params": (a, b)},
        PaperRow("SupReMix", f"(α, β) row {index} of 3, label missing"),
    )
    for index, (a, b) in enumerate(TABLE_11_ORDER, start=1)
)

#: Seed 001 Table 15 (App. D.2): batch sizes of SupReMix on UK Biobank and Echo-Net
#: (``batch_size``, used by the contrastive and the probe stage alike).
BATCH_SIZES: tuple[Variant, ...] = tuple(
    Variant(f"batch size {size}", {"batch_size": size}, PaperRow("SupReMix", f"batch size {size}"))
    for size in (32, 64, 128, 256, 512)
)

#: The book's phantom runs divide Table 15's batch sizes by this (32-512 become 4-64: the
#: phantom's training split has about 128 items), the smoke runs by :data:`SMOKE_BATCH_DIVISOR`
#: (2-32, for a training split of about 45).
PHANTOM_BATCH_DIVISOR = 8
SMOKE_BATCH_DIVISOR = 16


def phantom_batch_size(variant: Variant, smoke: bool) -> Variant:
    """A Table 15 row scaled to the phantom (:data:`PHANTOM_BATCH_DIVISOR`), labelled with
    both sizes; it keeps the paper row it stands for."""
    paper_size = int(variant.overrides["batch_size"])
    size = paper_size // (SMOKE_BATCH_DIVISOR if smoke else PHANTOM_BATCH_DIVISOR)
    return Variant(f"batch size {size} (paper {paper_size})", {"batch_size": size}, variant.paper)


#: Seed 001 Table 17 (App. D.4, Echo-Net): the contrastive loss sees labels rounded to bins of
#: 1 ("original values"), 5, 10 and 20 % (``label_bin``); the probe regresses the raw labels.
#: With Echo-Net's window γ = 7 (Table 13), bins of 10 and 20 leave no label strictly inside
#: the window, so those rows also lose every Mix-pos.
BIN_SIZES: tuple[Variant, ...] = tuple(
    Variant(
        f"bin size {size}", {"label_bin": float(size)}, PaperRow("SupReMix", f"bin size {size}")
    )
    for size in (1, 5, 10, 20)
)

#: C-Mixup's bandwidth σ (label units) where :class:`~supremix.train.TrainConfig`'s default
#: (1.75, the airfoil value of the C-Mixup code) does not fit: RSNA's labels are months, so σ is
#: the same 1.75 years, 21 months. Seed 001 gives no bandwidth.
CMIXUP_SIGMA: dict[str, float] = {"rsna": 21.0}


def _cmixup(dataset: str) -> dict[str, Any]:
    sigma = CMIXUP_SIGMA.get(dataset)
    return {"mixup": "cmixup", **({} if sigma is None else {"cmixup_sigma": sigma})}


def _cmixup_rows(dataset: str) -> tuple[Variant, ...]:
    return (
        Variant("C-Mixup", {"method": "vanilla", **_cmixup(dataset)}, PaperRow("C-Mixup")),
        Variant("SupReMix", {"method": "supremix"}, PaperRow("SupReMix")),
        Variant(
            "SupReMix + C-Mixup",
            {"method": "supremix", **_cmixup(dataset)},
            PaperRow("SupReMix + C-Mixup"),
        ),
    )


#: Seed 001 Table 18 (App. D.5): "C-Mixup trained from scratch" is a Vanilla regression whose
#: batches are C-Mixup mixtures (``method="vanilla", mixup="cmixup"``); "combining SupReMix
#: pretraining with C-Mixup" is SupReMix pretraining followed by a regression stage on C-Mixup
#: batches (``mixup="cmixup"`` acts only in stages with a regression loss and no contrastive
#: one: with the book's linear probe it mixes the probe's inputs through the frozen encoder;
#: pass ``protocol="finetune"`` to fine-tune on them). σ: :data:`CMIXUP_SIGMA`.
CMIXUP: dict[str, tuple[Variant, ...]] = {
    dataset: _cmixup_rows(dataset) for dataset in ("ukb", "hcp", "echonet", "rsna")
}

#: Seed 001 Table 19 (App. D.6, UK Biobank): where the pairs that are mixed come from. Input
#: Mixup [14] and C-Mixup [30] are Vanilla regressions on mixed inputs and labels (partners
#: uniform, or label-close), trained from scratch: Table 19's C-Mixup row equals Table 18's
#: (3.05); SupReMix mixes embeddings. The text ("input-level mixup significantly reduces
#: SupReMix effectiveness") could also be read as SupReMix's pairs mixed at the input; the
#: rows' citations of the two mixup papers make the baseline reading the likelier one.
PAIR_SELECTION: tuple[Variant, ...] = (
    Variant("Input Mixup", {"method": "vanilla", "mixup": "input"}, PaperRow("Input Mixup")),
    Variant("C-Mixup", {"method": "vanilla", **_cmixup("ukb")}, PaperRow("C-Mixup")),
    Variant("SupReMix", {"method": "supremix"}, PaperRow("SupReMix")),
)

ABLATIONS: dict[str, Ablation] = {
    "components": Ablation(
        name="components",
        table="Table 9",
        title="SupReMix's ingredients (Mix-neg, Mix-pos, distance magnifying weights)",
        rows={"rsna": COMPONENTS},
        default_datasets=("rsna",),
        mapping=(
            "Each row is the SupReMix loss with its ingredients switched by `mix_neg`, "
            "`mix_pos` and `distance_weight` (DM: the weights 1 + |Δy| of eq. (5)). "
            '"SupCon+Mix-neg" keeps SupCon\'s positives (real items of equal label) and adds '
            "the Mix-neg mixtures to the negatives; Mix-pos appear only in the SupReMix row. "
            "With all three off the loss is exactly SupCon's."
        ),
    ),
    "window": Ablation(
        name="window",
        table="Table 10",
        title="The Mix-pos window γ",
        rows=WINDOWS,
        default_datasets=("rsna",),
        mapping=(
            "`window` is γ in label units (months for RSNA, years for UK Biobank); "
            "`window=inf` is γ = ∞. Mix-pos need y_i − γ < y_j < y_i < y_k < y_i + γ, so on "
            "whole-number labels a window γ ≤ 1 forms no Mix-pos at all."
        ),
    ),
    "beta": Ablation(
        name="beta",
        table="Table 11",
        title="The Beta distribution of the Mix-neg coefficient",
        rows={d: BETAS for d in ("ukb", "hcp", "rsna", "rhpe", "echonet", "a4")},
        default_datasets=("ukb", "hcp"),
        mapping=(
            "`beta_params = (α, β)` of λ1 ~ Beta(α, β), the anchor's share of a Mix-neg. The "
            "seed's table lost its row labels; the rows are taken to be Beta(2,8), Beta(8,2) "
            "and Beta(5,5) in that order, the order the text names them in (and seed 002 "
            "Table 11 lists them in), with the text's best, Beta(2,8), the lowest row in "
            "every column. That order is inferred, not read."
        ),
    ),
    "batch_size": Ablation(
        name="batch_size",
        table="Table 15",
        title="Batch size",
        rows={"ukb": BATCH_SIZES, "echonet": BATCH_SIZES},
        default_datasets=("ukb",),
        mapping=(
            "`batch_size` of SupReMix's pretraining and probe, 32 to 512 in the paper. The "
            f"book's phantom runs divide them by {PHANTOM_BATCH_DIVISOR} (4 to 64: the "
            "phantom's training split has about 128 items) and smoke runs by "
            f"{SMOKE_BATCH_DIVISOR}; each row keeps the paper row it stands for."
        ),
        phantom_row=phantom_batch_size,
    ),
    "discretization": Ablation(
        name="discretization",
        table="Table 17",
        title="Discretised labels in the contrastive stage",
        rows={"echonet": BIN_SIZES},
        default_datasets=("echonet",),
        mapping=(
            "`label_bin`: the contrastive loss sees labels rounded to bins of 1, 5, 10 or 20 "
            "(% ejection fraction); the probe regresses the raw labels. With Echo-Net's "
            "window γ = 7, bins of 10 and 20 leave no label strictly inside the window: those "
            "rows also lose every Mix-pos."
        ),
    ),
    "cmixup": Ablation(
        name="cmixup",
        table="Table 18",
        title="SupReMix and C-Mixup, alone and combined",
        rows=CMIXUP,
        default_datasets=("ukb", "hcp"),
        mapping=(
            "C-Mixup: a Vanilla regression trained from scratch on C-Mixup batches "
            '(`method="vanilla", mixup="cmixup"`). SupReMix + C-Mixup: SupReMix '
            "pretraining, then the regression stage on C-Mixup batches (with the linear probe, "
            "mixed inputs pass the frozen encoder). C-Mixup's bandwidth σ is 1.75 label units "
            "(21 months on RSNA); seed 001 gives none."
        ),
    ),
    "pair_selection": Ablation(
        name="pair_selection",
        table="Table 19",
        title="Pair selection: input mixup, C-Mixup, SupReMix",
        rows={"ukb": PAIR_SELECTION},
        default_datasets=("ukb",),
        mapping=(
            "Input Mixup and C-Mixup are Vanilla regressions trained on mixed inputs and "
            "labels (random partners, or label-close partners with σ = 1.75 years); SupReMix "
            "mixes embeddings in its contrastive loss."
        ),
    ),
}
