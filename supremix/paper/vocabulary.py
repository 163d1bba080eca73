"""Names shared by the papers' numbers and this project's runs: datasets, metrics, methods.

Dataset keys are those of :func:`supremix.data.get_dataset` where a loader exists, plus the
datasets of the papers that have none (the in-house BMD sets of the AdaCon paper).
"""

from __future__ import annotations

from supremix.losses import display_names, get_loss


def loss_kind(name: str) -> str:
    """``"contrastive"`` or ``"regression"``: the kind of the registered loss ``name``."""
    return get_loss(name).kind


# key -> (name as the papers print it, unit of the label; "" when the label has none)
DATASETS: dict[str, tuple[str, str]] = {
    "ukb": ("UK Biobank (T1 MRI, brain age)", "years"),
    "hcp": ("HCP-Lifespan / HCP-Aging (rs-fMRI, brain age)", "years"),
    "rsna": ("RSNA-BAA (hand X-ray, bone age)", "months"),
    "rhpe": ("RHPE-BAA (hand X-ray, bone age)", "months"),
    "echonet": ("EchoNet-Dynamic (echocardiogram, LVEF)", "%"),
    "camus": ("CAMUS (echocardiogram, LVEF)", "%"),
    "a4": ("A4 (amyloid PET, SUVR)", ""),
    "agedb": ("AgeDB-DIR (face, age)", "years"),
    "imdbwiki": ("IMDB-WIKI-DIR (face, age)", "years"),
    "stsb": ("STS-B-DIR (sentence pairs, similarity score)", ""),
    "airfoil": ("UCI airfoil self-noise (tabular, scaled sound pressure level)", "dB"),
    "bmd": ("BMD, Queen Mary Hospital (hip X-ray, bone mineral density)", "g/cm²"),
    "bmd_fujifilm": ("BMD, Fujifilm external set (hip X-ray)", "g/cm²"),
    "bmd_cgmh": ("BMD, CGMH external set (hip X-ray)", "g/cm²"),
}

# canonical metric -> what it is
METRICS: dict[str, str] = {
    "MAE": "mean absolute error",
    "MSE": "mean squared error",
    "RMSE": "root mean squared error",
    "GM": "geometric mean of the absolute errors",
    "rho": "Pearson correlation between prediction and label",
    "R2": "coefficient of determination",
    "GM (MSE scale)": "a column the paper prints as GM whose values are on the scale of the MSE "
    "and larger than the MAE, which no geometric mean of absolute errors is; what it measures is "
    "not stated, so it is never set beside a GM",
}

# Metrics that are better when larger; every other metric is an error.
HIGHER_IS_BETTER = frozenset({"rho", "R2"})

_METRIC_ALIASES = {
    "mae": "MAE",
    "mse": "MSE",
    "rmse": "RMSE",
    "gm": "GM",
    "gmean": "GM",
    "rho": "rho",
    "pearson": "rho",
    "pearsonr": "rho",
    "r": "rho",
    "ρ": "rho",
    "r2": "R2",
    "r²": "R2",
}

# Methods that are no loss of supremix.losses; every registered loss adds its own spellings.
_METHOD_ALIASES = {
    "vanilla": "Vanilla",
    "supcr": "SupCR",
    "simcse": "SimCSE",
    "c-mixup": "C-Mixup",
    "cmixup": "C-Mixup",
    **{
        name: display
        for name, display in display_names().items()
        if loss_kind(name) == "contrastive"
    },
}


def canonical_metric(name: str) -> str:
    """Canonical spelling of metric ``name``: ``"mae"`` -> ``"MAE"``, ``"pearson"`` -> ``"rho"``.

    Raises ``ValueError`` naming the known metrics when ``name`` is none of them.
    """
    key = str(name).strip()
    if key in METRICS:
        return key
    try:
        return _METRIC_ALIASES[key.lower()]
    except KeyError:
        raise ValueError(
            f"unknown metric {name!r}; expected one of {', '.join(METRICS)} "
            f"(or an alias: {', '.join(sorted(_METRIC_ALIASES))})"
        ) from None


def canonical_method(name: str) -> str:
    """The papers' spelling of a method name (``"supremix"`` -> ``"SupReMix"``).

    Names that are not aliases of a known method are returned unchanged.
    """
    return _METHOD_ALIASES.get(str(name).strip().lower(), str(name).strip())
