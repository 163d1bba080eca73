"""A paper's numbers sit beside a run only when both used the same protocol."""

from __future__ import annotations

from supremix.studies import paper_reference, study_config


def _tables(frame):
    return set(zip(frame["seed"], frame["table"], strict=True))


def test_fine_tuned_tables_never_sit_beside_linear_probe_runs():
    _, probe = study_config("ukb", data_root="/real/ukb")
    assert probe.protocol == "linear_probe"
    shown = _tables(paper_reference("ukb", protocol=probe.protocol))
    assert (2, "Table 4") not in shown and (1, "Table 2") in shown
    _, finetune = study_config("ukb", preset="ukb-seed002", data_root="/real/ukb")
    shown = _tables(paper_reference("ukb", protocol=finetune.protocol))
    assert shown == {(2, "Table 4")}
    assert (2, "Table 6") not in _tables(paper_reference("hcp", protocol="linear_probe"))
    assert _tables(paper_reference("ukb")) == {(1, "Table 2"), (2, "Table 4")}
