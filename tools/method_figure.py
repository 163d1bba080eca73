"""Draw the book's picture of SupReMix's contrastive pairs: book/images/supremix_pairs.svg.

    python tools/method_figure.py            # rewrite the SVG (deterministic output)

Three panels over the same embeddings, ordered by label along a curve: what SupCon sees in
regression (one positive, every other sample an equal negative), Mix-neg (the anchor mixed
with a negative, lambda ~ Beta(2, 8) weighting the anchor; the SupReMix paper's §3.2) and Mix-pos
(two samples bracketing the anchor's label inside the window, mixed so that the mixture's label is
the anchor's; the SupReMix paper's §3.3). The numbers are illustrative, not data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

OUT = Path(__file__).resolve().parents[1] / "book" / "images" / "supremix_pairs.svg"
LABELS = np.array([21.0, 24.0, 27.0, 30.0, 34.0, 37.0, 40.0])
ANCHOR = 30.0
WINDOW = 5.0
LAMBDA_NEG = 0.2  # the mean of Beta(2, 8): the mixture sits near the negative
NEGATIVE = 37.0
BELOW, ABOVE = 27.0, 34.0


def embed(label: float | np.ndarray) -> np.ndarray:
    """A globally ordered, locally near-linear 2-D embedding of a label (for the picture)."""
    label = np.asarray(label, dtype=float)
    return np.stack([label, 2.2 * np.tanh((label - ANCHOR) / 6.0)], axis=-1)


def base(ax: plt.Axes, title: str) -> None:
    curve = np.linspace(19.0, 42.0, 200)
    ax.plot(*embed(curve).T, color="0.85", lw=6, zorder=0, solid_capstyle="round")
    points = embed(LABELS)
    ax.scatter(*points.T, c=LABELS, cmap="viridis", vmin=20, vmax=41, s=70, zorder=3)
    for label, (x, y) in zip(LABELS, points, strict=True):
        ax.annotate(
            f"{label:g}",
            (x, y),
            xytext=(0, -16),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            color="0.35",
        )
    anchor = embed(ANCHOR)
    ax.scatter(*anchor, s=260, facecolors="none", edgecolors="crimson", lw=2, zorder=4)
    ax.annotate(
        "anchor",
        anchor,
        xytext=(-14, 10),
        textcoords="offset points",
        ha="right",
        color="crimson",
        fontsize=9,
        weight="bold",
    )
    ax.set_title(title, fontsize=10)
    ax.set_xlim(18.5, 42.5)
    ax.set_ylim(-2.9, 2.9)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)


def arrow(ax: plt.Axes, start: np.ndarray, end: np.ndarray, color: str, width: float) -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        zorder=2,
        arrowprops={"arrowstyle": "-|>", "color": color, "lw": width, "shrinkA": 9, "shrinkB": 9},
    )


def draw(out: Path = OUT) -> Path:
    plt.rcParams.update({"svg.hashsalt": "supremix", "svg.fonttype": "none"})
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.4))
    anchor = embed(ANCHOR)

    base(axes[0], "SupCon on a regression label")
    for label in LABELS[LABELS != ANCHOR]:
        arrow(axes[0], anchor, embed(label), "0.55", 1.2)
    axes[0].set_xlabel(
        "no other sample shares the label:\nevery other one is an equal negative", fontsize=8
    )

    base(axes[1], "Mix-neg: a harder negative")
    negative = embed(NEGATIVE)
    mixture = LAMBDA_NEG * anchor + (1 - LAMBDA_NEG) * negative
    axes[1].plot(*np.stack([anchor, negative]).T, ls="--", color="0.4", lw=1)
    axes[1].scatter(*mixture, marker="X", s=120, color="darkorange", zorder=5)
    axes[1].annotate(
        "Mix-neg",
        mixture,
        xytext=(14, -22),
        textcoords="offset points",
        ha="left",
        fontsize=8,
        color="darkorange",
        arrowprops={"arrowstyle": "-", "color": "darkorange", "lw": 0.8},
    )
    for label, width in ((21.0, 2.6), (24.0, 2.0), (40.0, 2.9)):
        arrow(axes[1], anchor, embed(label), "0.55", width)
    arrow(axes[1], anchor, mixture, "darkorange", 1.6)
    axes[1].set_xlabel(
        "λ·anchor + (1-λ)·negative, λ ~ Beta(2, 8); negatives weighted\n"
        "by 1 + |label distance|, so far ones are pushed harder",
        fontsize=8,
    )

    base(axes[2], "Mix-pos: a positive that did not exist")
    axes[2].axvspan(ANCHOR - WINDOW, ANCHOR + WINDOW, color="tab:blue", alpha=0.08, zorder=0)
    below, above = embed(BELOW), embed(ABOVE)
    lam = (ABOVE - ANCHOR) / (ABOVE - BELOW)
    positive = lam * below + (1 - lam) * above
    axes[2].plot(*np.stack([below, above]).T, ls="--", color="0.4", lw=1)
    axes[2].scatter(*positive, marker="P", s=130, color="tab:blue", zorder=5)
    arrow(axes[2], positive, anchor, "tab:blue", 1.8)
    axes[2].annotate(
        "Mix-pos (label 30)",
        positive,
        xytext=(22, -26),
        textcoords="offset points",
        ha="left",
        fontsize=8,
        color="tab:blue",
        arrowprops={"arrowstyle": "-", "color": "tab:blue", "lw": 0.8},
    )
    axes[2].set_xlabel(
        f"{lam:.2f}·z({BELOW:g}) + {1 - lam:.2f}·z({ABOVE:g}) has label "
        f"{ANCHOR:g};\nboth partners lie inside the window γ = {WINDOW:g}",
        fontsize=8,
    )

    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    print(f"wrote {draw(parser.parse_args(argv).out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
