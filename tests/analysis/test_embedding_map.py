"""2-D maps: t-SNE keeps well-separated groups apart, UMAP is optional, the plot is coloured."""

import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

from supremix.analysis import embed_2d, plot_embedding


@pytest.fixture(autouse=True)
def one_openmp_thread():
    """Barnes-Hut t-SNE spins OpenMP threads; on a shared 2-core machine one thread is faster."""
    with threadpool_limits(1):
        yield


def two_groups(n=40, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 10))
    features[n // 2 :] += 20.0
    return features, np.repeat([0, 1], n // 2)


def test_tsne_map_keeps_separated_groups_apart_and_is_seeded():
    features, group = two_groups()
    coords = embed_2d(features, seed=1)
    assert coords.shape == (40, 2)
    distance = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.fill_diagonal(distance, np.inf)
    assert np.all(group[distance.argmin(axis=1)] == group)
    np.testing.assert_allclose(embed_2d(features, seed=1), coords)


def test_small_sets_lower_the_perplexity():
    assert embed_2d(np.random.default_rng(0).normal(size=(6, 3))).shape == (6, 2)
    with pytest.raises(ValueError, match="a 2-D map needs at least 4 points, got 3"):
        embed_2d(np.zeros((3, 2)))


def test_umap_without_the_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(ImportError, match="needs the optional package umap-learn"):
        embed_2d(np.random.default_rng(0).normal(size=(10, 3)), method="umap")
    with pytest.raises(ValueError, match="method must be one of tsne, umap, got 'pca'"):
        embed_2d(np.zeros((10, 3)), method="pca")


def test_plot_colours_points_by_label():
    coords = np.random.default_rng(0).normal(size=(12, 2))
    labels = np.linspace(5.0, 16.0, 12)
    figure = plot_embedding(coords, labels, title="RSNA", label_name="bone age")
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    points = ax.collections[0]
    np.testing.assert_allclose(points.get_offsets(), coords)
    np.testing.assert_allclose(points.get_array(), labels)
    assert ax.get_title() == "RSNA" and figure.axes[1].get_ylabel() == "bone age"


def test_plot_into_given_axes_and_bad_shapes():
    figure = Figure()
    left, right = figure.subplots(1, 2)
    assert plot_embedding(np.zeros((3, 2)), [1, 2, 3], ax=right) is figure
    assert len(right.collections) == 1 and len(left.collections) == 0
    with pytest.raises(ValueError, match=r"coords must have shape \(n, 2\), got \(3, 5\)"):
        plot_embedding(np.zeros((3, 5)), [1, 2, 3])
    with pytest.raises(ValueError, match="coords have 3 rows but labels have 2 values"):
        plot_embedding(np.zeros((3, 2)), [1, 2])
