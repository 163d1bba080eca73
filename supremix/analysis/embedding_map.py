"""2-D maps of learned representations coloured by label (the SupReMix paper, Figs. 3 and 6, Mixup
Your Own Pairs' Fig. 2).

The papers show t-SNE maps (van der Maaten and Hinton 2008) of encoder features: SupReMix gives
a continuous, ordered curve; SupCon separate clusters. :func:`embed_2d` computes the map with
scikit-learn's t-SNE (or UMAP where the ``umap-learn`` package is installed) and
:func:`plot_embedding` draws it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np

from .arrays import as_features, map_and_labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

METHODS = ("tsne", "umap")


def embed_2d(
    features: Any, *, method: str = "tsne", seed: int = 0, perplexity: float = 30.0
) -> np.ndarray:
    """Map ``(n, d)`` features to ``(n, 2)`` with t-SNE (``method="tsne"``) or UMAP.

    t-SNE starts from PCA and uses ``perplexity``, lowered to ``(n - 1) / 3`` for small ``n``
    (t-SNE needs it well below the number of points). Deterministic for a given ``seed``.
    UMAP needs the optional ``umap-learn`` package.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    x = as_features(features)
    if x.shape[0] < 4:
        raise ValueError(f"a 2-D map needs at least 4 points, got {x.shape[0]}")
    if method == "umap":
        try:
            umap = importlib.import_module("umap")
        except ImportError as error:
            raise ImportError(
                "embed_2d(method='umap') needs the optional package umap-learn "
                "(pip install umap-learn); method='tsne' needs only scikit-learn"
            ) from error
        return np.asarray(umap.UMAP(n_components=2, random_state=seed).fit_transform(x))
    from sklearn.manifold import TSNE  # imported here: slow to import, needed only here

    tsne = TSNE(
        n_components=2,
        perplexity=min(perplexity, (x.shape[0] - 1) / 3),
        init="pca",
        random_state=seed,
    )
    return tsne.fit_transform(x)


def plot_embedding(
    coords: Any,
    labels: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    label_name: str = "label",
    cmap: str = "viridis",
    point_size: float = 8.0,
) -> Figure:
    """Scatter ``(n, 2)`` map coordinates coloured by ``labels``, with a colour bar.

    Draws into ``ax`` when given, else into a new figure; returns the figure.
    """
    xy, y = map_and_labels(coords, labels)
    from .figure import report_figure

    figure: Any
    if ax is None:
        figure = report_figure(figsize=(5.0, 4.0), layout="constrained")
        ax = figure.add_subplot()
    else:
        figure = ax.figure
    points = ax.scatter(xy[:, 0], xy[:, 1], c=y, cmap=cmap, s=point_size, linewidths=0)
    figure.colorbar(points, ax=ax, label=label_name)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return figure
