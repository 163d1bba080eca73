"""A paper's numbers sit beside a run only when both used the same protocol."""

from __future__ import annotations

from supremix.studies import paper_reference, study_config


def _tables(frame):
    return set(zip(frame["paper"], frame["table"], strict=True))


def test_fine_tuned_tables_never_sit_beside_linear_probe_runs():
    _, probe = study_config("ukb", data_root="/real/ukb")
    assert probe.protocol == "linear_probe"
    shown = _tables(paper_reference("ukb", protocol=probe.protocol))
    assert ("mixup-pairs", "Table 4") not in shown and ("supremix", "Table 2") in shown
    _, finetune = study_config("ukb", preset="ukb-mixup-pairs", data_root="/real/ukb")
    shown = _tables(paper_reference("ukb", protocol=finetune.protocol))
    assert shown == {("mixup-pairs", "Table 4")}
    assert ("mixup-pairs", "Table 6") not in _tables(
        paper_reference("hcp", protocol="linear_probe")
    )
    assert _tables(paper_reference("ukb")) == {("supremix", "Table 2"), ("mixup-pairs", "Table 4")}
