"""The ablations of the SupReMix paper as data: which runs reproduce which row of which table.

Seven experiments of the SupReMix paper change one thing of a SupReMix run and report a metric per
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
    the paper's setting does not fit the phantom, ``mapping`` says, in Markdown, how the
    rows map onto :class:`~supremix.train.TrainConfig` and what had to be inferred, and
    ``window_expect`` names the rows whose Mix-pos window is meant to be no window (row label
    -> ``"no_mix_pos"`` or ``"unbounded"``, :data:`supremix.train.windows.EXPECTATIONS`);
    every other SupReMix row must form Mix-pos on its training labels without covering their
    whole range, or the run stops before training."""

    name: str
    table: str
    title: str
    rows: Mapping[str, tuple[Variant, ...]]
    default_datasets: tuple[str, ...]
    mapping: str
    paper: str = "supremix"
    metric: str = "MAE"
    overrides: Mapping[str, Any] = field(default_factory=lambda: dict(BASE_OVERRIDES))
    phantom_row: PhantomRow | None = None
    window_expect: Mapping[str, str] = field(default_factory=dict)

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
        """The table as the book names it, e.g. ``"the SupReMix paper's Table 10"``."""
        return reference_label(self.paper, self.table)

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


# The SupReMix paper's Table 9 (§5.8, RSNA): SupReMix's ingredients added to SupCon one by one. "DM"
# is the
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


def _window_rows(
    values: Sequence[tuple[str, float]], extra: Mapping[str, Any] | None = None
) -> tuple[Variant, ...]:
    return tuple(
        Variant(label, {"window": value, **(extra or {})}, PaperRow("SupReMix", label))
        for label, value in values
    )


# The SupReMix paper's Table 10 (§5.8): the Mix-pos window γ, in label units (months for RSNA, years
# for
#: UK Biobank); ``window=math.inf`` is γ = ∞ (every lower and every higher label of the batch
#: forms Mix-pos). A Mix-pos pair needs ``y_i - γ <= y_j < y_i < y_k <= y_i + γ`` (inclusive,
#: as eq. (4) prints it; book page "The SupReMix loss, specified"), so every RSNA row is a
#: different loss on whole-month labels. With the published code's strict window
#: (``window_edges="strict"``) γ = 1 would admit no pair and be SupCon + Mix-neg + DM (Table 9
#: gives 4.85 for that and Table 10 gives 4.86 for γ = 1). UK Biobank's rows γ = 0.2, 0.5 and
#: 1.0 differ only on ages finer than the window: the ``ukb`` preset's contrastive labels are
#: binned to 1 year (Mixup Your Own Pairs Table 12), under which γ = 0.2 and 0.5 would be one
#: loss, so these rows set ``label_bin=None`` (unbinned ages). Field 21003 gives whole years, so
#: on it γ = 0.2 and 0.5 still form no Mix-pos and the run stops before training
#: (:func:`~supremix.experiments.ablations.window_table`): they need fractional ages (from the
#: birth month and the scan date).
WINDOWS: dict[str, tuple[Variant, ...]] = {
    "rsna": _window_rows(
        [("γ=1", 1.0), ("γ=3", 3.0), ("γ=5", 5.0), ("γ=10", 10.0), ("γ=∞", math.inf)]
    ),
    "ukb": _window_rows(
        [("γ=0.2", 0.2), ("γ=0.5", 0.5), ("γ=1.0", 1.0), ("γ=2.0", 2.0), ("γ=∞", math.inf)],
        {"label_bin": None},
    ),
}

#: The Beta(α, β) of Table 11's three rows, in the table's order. The paper's table lost its row
#: labels (the stored rows say "label missing"); the text of §5.8 names Beta(2,8), Beta(8,2)
#: and Beta(5,5) in that order, says Beta(2,8) is best on all six datasets (the first row is
# the lowest in every column) and Mixup Your Own Pairs' Table 11 lists the same three in the same
# order.
#: The order is therefore inferred, not read.
TABLE_11_ORDER: tuple[tuple[float, float], ...] = ((2.0, 8.0), (8.0, 2.0), (5.0, 5.0))

# The SupReMix paper's Table 11 (§5.8): Beta(α, β) of the Mix-neg coefficient λ1 (``beta_params``;
# λ1
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

#: Mixup Your Own Pairs' Table 11: the same three Beta(α, β) of λ1, with their labels printed,
#: on six datasets; the book runs its STS-B-DIR column (MSE and ρ), the one dataset of that
#: table that the SupReMix paper does not report.
MIXUP_PAIRS_BETAS: tuple[Variant, ...] = tuple(
    Variant(
        f"Beta({a:g},{b:g})",
        {"beta_params": (a, b)},
        PaperRow("SupReMix", f"Beta(α={a:g}, β={b:g})"),
    )
    for a, b in TABLE_11_ORDER
)

#: The probe's batch in every Table 15 row: Table 13's batch for UK Biobank and Echo-Net (64),
#: the batch of the paper's main runs. App. D.2 varies the batch "to maintain extensive
#: negative sample pools", i.e. the contrastive batch; the probe's stays fixed, so that rows
#: differ only in the contrastive stage.
TABLE_15_PROBE_BATCH = 64

# The SupReMix paper's Table 15 (App. D.2): batch sizes of SupReMix's contrastive stage on UK
# Biobank and
#: Echo-Net (``batch_size``); the probe's batch is :data:`TABLE_15_PROBE_BATCH`
#: (``probe_batch_size``).
BATCH_SIZES: tuple[Variant, ...] = tuple(
    Variant(
        f"batch size {size}",
        {"batch_size": size, "probe_batch_size": TABLE_15_PROBE_BATCH},
        PaperRow("SupReMix", f"batch size {size}"),
    )
    for size in (32, 64, 128, 256, 512)
)

#: The book's phantom runs divide Table 15's batch sizes by this (32-512 become 4-64: the
#: phantom's training split has about 128 items), the smoke runs by :data:`SMOKE_BATCH_DIVISOR`
#: (2-32, for a training split of about 45).
PHANTOM_BATCH_DIVISOR = 8
SMOKE_BATCH_DIVISOR = 16


def phantom_batch_size(variant: Variant, smoke: bool) -> Variant:
    """A Table 15 row scaled to the phantom (:data:`PHANTOM_BATCH_DIVISOR`), labelled with
    both sizes; the probe's batch is scaled alike and stays the same in every row; the row
    keeps the paper row it stands for."""
    divisor = SMOKE_BATCH_DIVISOR if smoke else PHANTOM_BATCH_DIVISOR
    paper_size = int(variant.overrides["batch_size"])
    size = paper_size // divisor
    probe = int(variant.overrides["probe_batch_size"]) // divisor
    return Variant(
        f"batch size {size} (paper {paper_size})",
        {"batch_size": size, "probe_batch_size": probe},
        variant.paper,
    )


# The SupReMix paper's Table 17 (App. D.4, Echo-Net): the contrastive loss sees labels rounded to
# bins of
#: 1 ("original values"), 5, 10 and 20 % (``label_bin``); the probe regresses the raw labels.
#: With Echo-Net's window γ = 7 (Table 13), bins of 10 and 20 leave no other label inside
#: the window, so those rows also lose every Mix-pos (:data:`BIN_SIZES_WITHOUT_MIX_POS`).
BIN_SIZES: tuple[Variant, ...] = tuple(
    Variant(
        f"bin size {size}", {"label_bin": float(size)}, PaperRow("SupReMix", f"bin size {size}")
    )
    for size in (1, 5, 10, 20)
)

#: Table 17's rows whose bins are wider than Echo-Net's window γ = 7: no Mix-pos, by design.
BIN_SIZES_WITHOUT_MIX_POS: dict[str, str] = {
    "bin size 10": "no_mix_pos",
    "bin size 20": "no_mix_pos",
}

#: C-Mixup's bandwidth σ (label units) where :class:`~supremix.train.TrainConfig`'s default
#: (1.75, the airfoil value of the C-Mixup code) does not fit: RSNA's labels are months, so σ is
#: the same 1.75 years, 21 months. The SupReMix paper gives no bandwidth.
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
            {"method": "supremix", "protocol": "finetune", **_cmixup(dataset)},
            PaperRow("SupReMix + C-Mixup"),
        ),
    )


# The SupReMix paper's Table 18 (App. D.5): "C-Mixup trained from scratch" is a Vanilla regression
# whose
#: batches are C-Mixup mixtures (``method="vanilla", mixup="cmixup"``); "combining SupReMix
#: pretraining with C-Mixup" is SupReMix pretraining followed by a regression stage trained end
#: to end on C-Mixup batches (``protocol="finetune"``): C-Mixup is a way of training a
#: regression network, and on a frozen encoder it would only mix the probe's inputs. The
#: "SupReMix" row stays the paper's linear probe (its number is the main tables' 2.97 on UK
#: Biobank). ``mixup="cmixup"`` acts only in stages with a regression loss and no contrastive
#: one. σ: :data:`CMIXUP_SIGMA`.
CMIXUP: dict[str, tuple[Variant, ...]] = {
    dataset: _cmixup_rows(dataset) for dataset in ("ukb", "hcp", "echonet", "rsna")
}

# The SupReMix paper's Table 19 (App. D.6, UK Biobank): where the pairs that are mixed come from.
# The
#: paper contradicts itself, so both readings are rows here:
#:
#: * :data:`PAIR_SELECTION` (the default): the text, "input-level mixup significantly reduces
#:   SupReMix effectiveness, while our embedding-level approach outperforms C-Mixup": the
#:   "Input Mixup" row is SupReMix with its Mix-neg and Mix-pos formed from inputs
#:   (``mix_level="input"``, :mod:`supremix.train.input_pairs`), C-Mixup the regression
#:   baseline of Table 18 (its row equals Table 18's 3.05), SupReMix the embedding-level loss.
#:   Chosen because the text says what was compared, while a citation only names a source.
#: * :data:`PAIR_SELECTION_BASELINES`: the rows' citations ("Input Mixup [14]", "C-Mixup [30]"):
#:   both are Vanilla regressions on mixed inputs and labels, trained from scratch.
PAIR_SELECTION: tuple[Variant, ...] = (
    Variant("Input Mixup", {"method": "supremix", "mix_level": "input"}, PaperRow("Input Mixup")),
    Variant("C-Mixup", {"method": "vanilla", **_cmixup("ukb")}, PaperRow("C-Mixup")),
    Variant("SupReMix", {"method": "supremix"}, PaperRow("SupReMix")),
)
PAIR_SELECTION_BASELINES: tuple[Variant, ...] = (
    Variant("Input Mixup", {"method": "vanilla", "mixup": "input"}, PaperRow("Input Mixup")),
    *PAIR_SELECTION[1:],
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
            "`window=inf` is γ = ∞. A Mix-pos needs a label on each side of the anchor "
            "inside the window (inclusive in the paper's eq. (4), strict in the published "
            "code): on whole months an inclusive γ = 1 forms Mix-pos, a strict one none. "
            "The UK Biobank rows run on unbinned ages (`label_bin=None`): binned to 1 year, "
            "γ = 0.2, 0.5 and 1.0 would be one loss. On whole-year ages γ = 0.2 and 0.5 "
            "still form no Mix-pos, and the run stops before training and says so."
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
            "paper's table lost its row labels; the rows are taken to be Beta(2,8), Beta(8,2) "
            "and Beta(5,5) in that order, the order the text names them in (and Mixup Your Own "
            "Pairs' Table 11 lists them in), with the text's best, Beta(2,8), the lowest row in "
            "every column. That order is inferred, not read."
        ),
    ),
    "beta_stsb": Ablation(
        name="beta_stsb",
        table="Table 11",
        paper="mixup-pairs",
        metric="MSE",
        title="The Beta distribution of the Mix-neg coefficient on STS-B-DIR",
        rows={"stsb": MIXUP_PAIRS_BETAS},
        default_datasets=("stsb",),
        mapping=(
            "`beta_params = (α, β)` of λ1 ~ Beta(α, β), as in the beta ablation; Mixup Your "
            "Own Pairs Table 11 prints the three rows' labels and reports MSE and ρ for "
            "STS-B-DIR. Runs without GloVe vectors learn their word embeddings from scratch: "
            "not the paper's embeddings."
        ),
    ),
    "batch_size": Ablation(
        name="batch_size",
        table="Table 15",
        title="Batch size",
        rows={"ukb": BATCH_SIZES, "echonet": BATCH_SIZES},
        default_datasets=("ukb",),
        mapping=(
            "`batch_size` of SupReMix's contrastive pretraining, 32 to 512 in the paper; the "
            f"probe's batch stays {TABLE_15_PROBE_BATCH} (`probe_batch_size`, Table 13's "
            "batch) in every row, so that rows differ only in the contrastive stage. The "
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
            "window γ = 7, bins of 10 and 20 leave no other label inside the window: those "
            "rows also lose every Mix-pos (declared, so the window check lets them run)."
        ),
        window_expect=BIN_SIZES_WITHOUT_MIX_POS,
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
            "pretraining, then the whole network fine-tuned end to end on C-Mixup batches "
            '(`protocol="finetune"`), where C-Mixup acts; SupReMix alone is the linear probe. '
            "C-Mixup's bandwidth σ is 1.75 label units (21 months on RSNA); the paper gives none."
        ),
    ),
    "pair_selection": Ablation(
        name="pair_selection",
        table="Table 19",
        title="Pair selection: SupReMix's pairs mixed at the input, C-Mixup, SupReMix",
        rows={"ukb": PAIR_SELECTION},
        default_datasets=("ukb",),
        mapping=(
            'The text\'s reading (App. D.6): "Input Mixup" is SupReMix with its Mix-neg and '
            'Mix-pos formed from inputs (`mix_level="input"`), C-Mixup the Vanilla regression '
            "on C-Mixup batches (σ = 1.75 years, Table 18's baseline), SupReMix the "
            "embedding-level loss. The rows' citations allow another reading, both mixups as "
            "Vanilla regressions: ablation `pair_selection_baselines`."
        ),
    ),
    "pair_selection_baselines": Ablation(
        name="pair_selection_baselines",
        table="Table 19",
        title="Pair selection, read from the citations: input mixup, C-Mixup, SupReMix",
        rows={"ukb": PAIR_SELECTION_BASELINES},
        default_datasets=("ukb",),
        mapping=(
            "The citations' reading: Input Mixup and C-Mixup are Vanilla regressions trained "
            "on mixed inputs and labels (random partners, or label-close partners with "
            "σ = 1.75 years); SupReMix mixes embeddings in its contrastive loss."
        ),
    ),
}
