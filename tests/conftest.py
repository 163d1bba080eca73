"""Test-wide settings: caches (phantoms, preprocessed items) go to a fresh folder per session,
so tests neither read a developer's ~/.cache/supremix nor leave files in it."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUPREMIX_CACHE", str(tmp_path_factory.mktemp("supremix-cache")))
        yield


@pytest.fixture
def one_thread():
    """Run the test with one torch thread (tests that train, so timings do not fight)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A notebook smoke run (marker ``notebook``) is also ``slow``: ``-m "not slow"`` leaves
    every test of more than a few seconds out, notebooks included."""
    for item in items:
        if item.get_closest_marker("notebook") is not None:
            item.add_marker(pytest.mark.slow)
