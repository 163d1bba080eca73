"""Where the test labels are withheld (RHPE), the reported split never selects the checkpoint."""

from __future__ import annotations

from supremix.data import get_dataset
from supremix.studies import study_config
from supremix.train import open_splits
from supremix.train.experiment import REPORTED_VALIDATION


def test_rhpe_reports_the_official_validation_split_and_selects_on_held_out_training_items():
    _, config = study_config("rhpe", smoke=True)
    splits, info = open_splits(config)
    official_val = get_dataset("rhpe", info["root"], "val", **config.dataset_options)
    official_train = get_dataset("rhpe", info["root"], "train", **config.dataset_options)
    assert list(splits["test"].ids) == list(official_val.ids)  # reported: official val
    train, selection = set(splits["train"].ids), set(splits["val"].ids)
    assert not train & selection and train | selection == set(official_train.ids)
    assert not selection & set(official_val.ids)
    assert info["reported_split"] == REPORTED_VALIDATION and "test_unavailable" in info
    again, _ = open_splits(config)
    assert list(again["val"].ids) == list(splits["val"].ids)  # the same for every run


def test_datasets_with_test_labels_keep_their_splits():
    _, config = study_config("rsna", smoke=True)
    splits, info = open_splits(config)
    assert "reported_split" not in info
    assert list(splits["test"].ids) == list(
        get_dataset("rsna", info["root"], "test", **config.dataset_options).ids
    )
