"""Label tables a loader cannot trust: repeated ids that disagree, paths that leave the dataset
root, workbooks with XML entities. Each case: the error type, a message naming the file and the
rows or ids, and the dataset folder unchanged (data_kit.refused)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from data_kit import (
    A4_FAST,
    CAMUS_FAST,
    HCP_FAST,
    UKB_FAST,
    a4,
    agedb,
    camus,
    csv,
    echonet,
    hcp,
    jpeg,
    png,
    refused,
    rsna,
    ukb,
)

from supremix.data import DatasetContentError, get_dataset
from supremix.data.camus import CAMUS
from supremix.data.errors import DatasetContentWarning
from supremix.data.generic import CSVDataset
from supremix.data.hcp import HCPAgingFMRI
from supremix.data.paths import check_plain_names, resolve_entries
from supremix.data.tables import require_defused_xml
from supremix.data.ukb import UKBiobankT1

RSNA_CSV = "boneage-training-dataset.csv"


# -- repeated ids --------------------------------------------------------------------------


def test_rsna_id_repeated_with_another_bone_age(tmp_path):
    root = rsna(tmp_path, [("1377", 120, True), ("1378", 60, False), ("1377", 130, True)])
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("rsna", root, image_size=8),
        root / RSNA_CSV,
        "1377 (rows 2, 4)",
    )


def test_rsna_spreadsheet_number_id_is_the_same_id(tmp_path):
    root = rsna(tmp_path, [("1377", 120, True), ("1377.0", 120, False), ("9", 3, False)])
    refused(
        root, DatasetContentError, lambda: get_dataset("rsna", root, image_size=8), "1377 (rows"
    )


def test_rsna_identical_repeated_rows_are_read_once_with_a_warning(tmp_path):
    rows = [(str(i), 10 * i, True) for i in range(1, 13)] + [("3", 30, True)]
    root = rsna(tmp_path, rows)
    with pytest.warns(DatasetContentWarning, match=r"rows repeating id 3 in .* are read once"):
        parts = [get_dataset("rsna", root, s, image_size=8) for s in ("train", "val")]
    ids = parts[0].ids + parts[1].ids
    assert sorted(ids) == sorted(str(i) for i in range(1, 13))


def test_rsna_test_truth_workbook_with_conflicting_rows(tmp_path):
    root = rsna(tmp_path, [("1", 10, True)])
    png(root / "boneage-test-dataset" / "4360.png")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Case ID", "Sex", "Ground truth bone age (months)"])
    sheet.append([4360, "M", 120])
    sheet.append([4360, "M", 121])
    book.save(root / "Bone age ground truth.xlsx")
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("rsna", root, "test", image_size=8),
        root / "Bone age ground truth.xlsx",
        "4360 (rows 2, 3)",
    )


def test_rsna_id_in_both_training_and_official_validation_tables(tmp_path):
    train = tmp_path / "Bone Age Training Set Annotations" / "train.csv"
    val = tmp_path / "Bone Age Validation Set" / "Validation Dataset.csv"
    csv(train, [{"id": 1, "boneage": 10, "male": True}, {"id": 2, "boneage": 20, "male": False}])
    csv(val, [{"Image ID": 2, "male": False, "Bone Age (months)": 20}])
    png(tmp_path / "Bone Age Training Set" / "1.png")
    png(tmp_path / "Bone Age Training Set" / "2.png")
    png(tmp_path / "Bone Age Validation Set" / "boneage-validation-dataset-1" / "2.png")
    for split in ("train", "val"):
        refused(
            tmp_path,
            DatasetContentError,
            lambda split=split: get_dataset(
                "rsna", tmp_path, split, validation="official", image_size=8
            ),
            "1 id(s) in both",
            train,
            val,
        )


def test_echonet_file_name_repeated_with_another_ef(tmp_path):
    rows = [
        {"FileName": "0XA", "EF": 55.0, "Split": "TRAIN"},
        {"FileName": "0XB", "EF": 40.0, "Split": "TRAIN"},
        {"FileName": "0XA", "EF": 60.0, "Split": "TRAIN"},
    ]
    root = echonet(tmp_path, rows)
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("echonet", root),
        root / "FileList.csv",
        "0XA (rows 2, 4)",
    )


def test_echonet_file_name_in_two_splits_with_and_without_suffix(tmp_path):
    rows = [
        {"FileName": "0XA", "EF": 55.0, "Split": "TRAIN"},
        {"FileName": "0XA.avi", "EF": 55.0, "Split": "TEST"},
    ]
    root = echonet(tmp_path, rows)
    message = refused(
        root, DatasetContentError, lambda: get_dataset("echonet", root, "test"), "0XA (rows 2, 3)"
    )
    assert "EF/Split" in message


def test_agedb_path_in_train_and_test(tmp_path):
    rows = [
        {"age": 30, "path": "AgeDB/1_A_30_m.jpg", "split": "train"},
        {"age": 30, "path": "AgeDB/1_A_30_m.jpg", "split": "test"},
    ]
    root = agedb(tmp_path, rows)
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("agedb", root),
        root / "agedb.csv",
        "AgeDB/1_A_30_m.jpg (rows 2, 3)",
    )


def test_agedb_same_file_spelled_two_ways(tmp_path):
    rows = [
        {"age": 30, "path": "AgeDB/1_A_30_m.jpg", "split": "train"},
        {"age": 31, "path": "AgeDB/./1_A_30_m.jpg", "split": "train"},
    ]
    root = agedb(tmp_path, rows)
    refused(root, DatasetContentError, lambda: get_dataset("agedb", root), "(rows 2, 3)")


def test_imdbwiki_path_with_two_ages(tmp_path):
    rows = [
        {"age": 20, "path": "imdb_crop/00/a.jpg", "split": "train"},
        {"age": 25, "path": "imdb_crop/00/a.jpg", "split": "train"},
    ]
    root = agedb(tmp_path, rows, "imdb_wiki.csv")
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("imdbwiki", root),
        root / "imdb_wiki.csv",
        "imdb_crop/00/a.jpg",
    )


def test_ukb_eid_with_two_ages(tmp_path):
    root = ukb(tmp_path, {"1000001": 60, "1000002": 70})
    csv(
        root / "ukb.csv",
        [
            {"eid": "1000001", "21003-2.0": 60},
            {"eid": "1000002", "21003-2.0": 70},
            {"eid": "1000001", "21003-2.0": 65},
        ],
    )
    refused(
        root,
        DatasetContentError,
        lambda: UKBiobankT1(root, **UKB_FAST),
        root / "ukb.csv",
        "1000001 (rows 2, 4)",
    )


def test_ukb_eid_with_two_sexes(tmp_path):
    root = ukb(tmp_path, {"1000001": 60}, {"1000001": 0})
    csv(
        root / "ukb.csv",
        [
            {"eid": "1000001", "21003-2.0": 60, "31-0.0": 0},
            {"eid": "1000001", "21003-2.0": 60, "31-0.0": 1},
        ],
    )
    refused(root, DatasetContentError, lambda: UKBiobankT1(root, **UKB_FAST), "1000001")


def test_rhpe_padded_and_bare_id_with_two_bone_ages(tmp_path):
    notes = tmp_path / "RHPE_Annotations"
    csv(
        notes / "RHPE_Boneage_train.csv",
        [
            {"ID": 7, "Male": True, "Boneage": 100, "Chronological": 100},
            {"ID": "00007", "Male": True, "Boneage": 110, "Chronological": 100},
        ],
    )
    png(tmp_path / "RHPE_train" / "00007.png")
    refused(
        tmp_path,
        DatasetContentError,
        lambda: get_dataset("rhpe", tmp_path, crop="none", image_size=8),
        notes / "RHPE_Boneage_train.csv",
        "00007 (rows 2, 3)",
    )


def test_hcp_subject_with_two_ages(tmp_path):
    root = hcp(tmp_path, {"HCA1": 600, "HCA2": 700})
    table = (root / "ndar_subject01.txt").read_text() + "HCA1\t610\tF\n"
    (root / "ndar_subject01.txt").write_text(table)
    refused(
        root,
        DatasetContentError,
        lambda: HCPAgingFMRI(root, **HCP_FAST),
        root / "ndar_subject01.txt",
        "HCA1 (rows",
    )


def test_a4_subject_visit_with_two_suvrs(tmp_path):
    root = a4(tmp_path, {"B1": 1.1, "B2": 1.2})
    table = (root / "imaging_SUVR_amyloid.csv").read_text() + "B1,2,Composite_Summary,1.4\n"
    (root / "imaging_SUVR_amyloid.csv").write_text(table)
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("a4", root, **A4_FAST),
        root / "imaging_SUVR_amyloid.csv",
        "B1/2",
    )


def test_camus_patient_in_two_split_files(tmp_path):
    splits = {
        "training": ["patient0001", "patient0002"],
        "validation": ["patient0003"],
        "testing": ["patient0002"],
    }
    root = camus(tmp_path, {f"patient000{i}": 50 for i in (1, 2, 3)}, splits)
    refused(
        root,
        DatasetContentError,
        lambda: CAMUS(root, "test", **CAMUS_FAST),
        "patient0002",
        root / "database_split" / "subgroup_testing.txt",
    )


def test_generic_csv_repeated_id(tmp_path):
    png(tmp_path / "a.png")
    png(tmp_path / "b.png")
    csv(
        tmp_path / "labels.csv",
        [{"path": "a.png", "target": 1, "id": "x"}, {"path": "b.png", "target": 2, "id": "x"}],
    )
    refused(
        tmp_path,
        DatasetContentError,
        lambda: CSVDataset(tmp_path, id_column="id"),
        tmp_path / "labels.csv",
        "x",
    )


# -- paths that leave the dataset root -----------------------------------------------------


def test_agedb_path_climbing_out_of_the_root(tmp_path):
    root = tmp_path / "agedb"
    jpeg(tmp_path / "elsewhere.jpg")
    rows = [
        {"age": 30, "path": "AgeDB/1_A_30_m.jpg", "split": "train"},
        {"age": 30, "path": "../elsewhere.jpg", "split": "train"},
    ]
    agedb(root, rows)
    refused(
        tmp_path,
        DatasetContentError,
        lambda: get_dataset("agedb", root),
        root / "agedb.csv",
        "row 3: '../elsewhere.jpg' leaves the root",
    )


def test_agedb_absolute_path(tmp_path):
    outside = jpeg(tmp_path / "elsewhere" / "2_B_40_f.jpg")
    root = agedb(tmp_path / "agedb", [{"age": 40, "path": str(outside), "split": "train"}])
    refused(
        tmp_path,
        DatasetContentError,
        lambda: get_dataset("agedb", root),
        f"row 2: '{outside}' is absolute",
    )


def test_imdbwiki_path_climbing_out_through_a_subfolder(tmp_path):
    root = tmp_path / "imdb"
    jpeg(tmp_path / "x.jpg")
    agedb(root, [{"age": 20, "path": "imdb_crop/../../x.jpg", "split": "train"}], "imdb_wiki.csv")
    refused(
        tmp_path,
        DatasetContentError,
        lambda: get_dataset("imdbwiki", root),
        "'imdb_crop/../../x.jpg' leaves the root",
    )


def test_echonet_file_name_climbing_out_of_videos(tmp_path):
    root = tmp_path / "echo"
    rows = [
        {"FileName": "0XA", "EF": 50, "Split": "TRAIN"},
        {"FileName": "../../secret", "EF": 50, "Split": "TRAIN"},
    ]
    echonet(root, rows)
    refused(
        tmp_path,
        DatasetContentError,
        lambda: get_dataset("echonet", root),
        root / "FileList.csv",
        "row 3: '../../secret.avi' leaves the root",
    )


def test_echonet_absolute_file_name(tmp_path):
    root = echonet(tmp_path, [{"FileName": "/etc/passwd", "EF": 50, "Split": "TRAIN"}])
    refused(root, DatasetContentError, lambda: get_dataset("echonet", root), "is absolute")


def test_echonet_file_name_in_a_subfolder(tmp_path):
    root = echonet(tmp_path, [{"FileName": "sub/0XA", "EF": 50, "Split": "TRAIN"}])
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("echonet", root),
        "row 2: 'sub/0XA.avi'",
        "directly in Videos/",
    )


def test_hcp_subject_id_climbing_out(tmp_path):
    root = hcp(tmp_path / "hcp", {"HCA1": 600, "../HCA9": 700})
    np.save(tmp_path / "HCA9_ts.npy", np.zeros((10, 4)))
    refused(
        tmp_path,
        DatasetContentError,
        lambda: HCPAgingFMRI(root, **HCP_FAST),
        root / "ndar_subject01.txt",
        "'../HCA9'",
    )


def test_hcp_absolute_subject_id(tmp_path):
    root = hcp(tmp_path, {"HCA1": 600, "/tmp/HCA2": 700})
    refused(root, DatasetContentError, lambda: HCPAgingFMRI(root, **HCP_FAST), "'/tmp/HCA2'")


def test_camus_split_file_climbing_out(tmp_path):
    splits = {"training": ["../patient0001"], "validation": [], "testing": []}
    root = camus(tmp_path, {"patient0001": 50}, splits)
    refused(
        root,
        DatasetContentError,
        lambda: CAMUS(root, "train", **CAMUS_FAST),
        root / "database_split" / "subgroup_training.txt",
        "'../patient0001'",
    )


def test_generic_csv_relative_path_climbing_out(tmp_path):
    png(tmp_path / "outside.png")
    data = tmp_path / "mine"
    png(data / "a.png")
    csv(
        data / "labels.csv",
        [{"path": "a.png", "target": 1}, {"path": "../outside.png", "target": 2}],
    )
    refused(
        tmp_path,
        DatasetContentError,
        lambda: CSVDataset(data, val=0, test=0),
        data / "labels.csv",
        "row 3: '../outside.png' leaves the root",
    )


def test_generic_csv_keeps_absolute_paths_as_documented(tmp_path):
    outside = png(tmp_path / "elsewhere" / "b.png")
    png(tmp_path / "mine" / "a.png")
    csv(
        tmp_path / "mine" / "labels.csv",
        [{"path": "a.png", "target": 1}, {"path": str(outside), "target": 2}],
    )
    dataset = CSVDataset(tmp_path / "mine", val=0, test=0)
    assert dataset.source_file(1) == outside


def test_path_helpers_refuse_empty_and_dot_entries(tmp_path):
    refused(
        tmp_path,
        DatasetContentError,
        lambda: resolve_entries(tmp_path, ["a.png", "", "."], dataset="csv", listed_in="t.csv"),
        "row 3: '' is empty",
        "row 4: '.' leaves the root",
    )
    refused(
        tmp_path,
        DatasetContentError,
        lambda: check_plain_names(["ok", "..", "a\\b"], dataset="hcp", what="id", listed_in="t"),
        "'..'",
        "'a\\\\b'",
    )


# -- workbooks: XML entities are never expanded --------------------------------------------


def workbook_with_entity(path: Path) -> Path:
    """An RSNA ground-truth workbook written by openpyxl whose sheet then declares an XML
    entity (the "billion laughs" construction, one level deep)."""
    book = openpyxl.Workbook()
    book.active.append(["Case ID", "Sex", "Ground truth bone age (months)"])
    book.active.append([4360, "M", 120])
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                text = data.decode()
                declaration = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                data = (declaration + text.replace(">M<", ">&b;<")).encode()
            target.writestr(name, data)
    plain.unlink()
    return path


def test_workbook_with_an_xml_entity_is_refused(tmp_path):
    root = rsna(tmp_path, [("1", 10, True)])
    png(root / "boneage-test-dataset" / "4360.png")
    truth = workbook_with_entity(root / "Bone age ground truth.xlsx")
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("rsna", root, "test", image_size=8),
        f"cannot parse label file {truth}",
        "expected an Excel workbook",
    )


def test_defusedxml_is_active_and_required(tmp_path, monkeypatch):
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML, "openpyxl does not use defusedxml: install it"
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    book = tmp_path / "truth.xlsx"
    openpyxl.Workbook().save(book)
    refused(
        tmp_path, DatasetContentError, lambda: require_defused_xml("rsna", book), book, "defusedxml"
    )


def test_workbook_that_is_not_a_zip(tmp_path):
    root = rsna(tmp_path, [("1", 10, True)])
    png(root / "boneage-test-dataset" / "4360.png")
    (root / "Bone age ground truth.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("rsna", root, "test", image_size=8),
        root / "Bone age ground truth.xlsx",
    )
