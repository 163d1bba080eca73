"""Files that load but hold something wrong: NaN or infinite voxels, pixels and values, a video
shorter than its table says, an airfoil file that is not UCI's, an NDA table without its
description row, labels outside the range the data card documents (refused, or warned where a
user may legitimately differ)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from data_kit import (
    A4_FAST,
    CAMUS_FAST,
    HCP_FAST,
    UKB_FAST,
    a4,
    agedb,
    avi,
    camus,
    csv,
    echonet,
    hcp,
    nifti,
    png,
    refused,
    rsna,
    snapshot,
    ukb,
)
from PIL import Image

from supremix.data import DatasetContentError, get_dataset
from supremix.data.airfoil import FILENAME, Airfoil, read_airfoil
from supremix.data.camus import CAMUS
from supremix.data.checks import LABEL_RANGES
from supremix.data.errors import DatasetContentWarning
from supremix.data.generic import CSVDataset
from supremix.data.hcp import HCPAgingFMRI
from supremix.data.ukb import UKBiobankT1

SHARED = Path(os.environ.get("SUPREMIX_DATA", Path(__file__).resolve().parents[3] / "shared/data"))
needs_airfoil = pytest.mark.skipif(
    not (SHARED / FILENAME).is_file(), reason="the UCI airfoil file is not available"
)


def with_nan(shape: tuple[int, ...], value: float = np.nan) -> np.ndarray:
    data = np.ones(shape, np.float32)
    data.flat[5] = value
    return data


# -- non-finite content --------------------------------------------------------------------


def test_ukb_nan_voxel(tmp_path):
    root = ukb(tmp_path, {"1000001": 60})
    path = nifti(root / "1000001" / "T1" / "T1_brain_to_MNI.nii.gz", with_nan((6, 6, 6)))
    dataset = UKBiobankT1(root, **UKB_FAST)
    refused(root, DatasetContentError, lambda: dataset.load(0), path, "1 NaN or infinite voxels")


def test_a4_infinite_voxel_in_one_frame(tmp_path):
    root = a4(tmp_path, {"B1": 1.1})
    dataset = get_dataset("a4", root, **A4_FAST)
    nifti(dataset.source_file(0), with_nan((6, 6, 6, 2), np.inf))
    refused(root, DatasetContentError, lambda: dataset.load(0), dataset.source_file(0), "infinite")


def test_camus_metaimage_float_sequence_with_nan(tmp_path):
    folder = tmp_path / "training" / "patient0001"
    folder.mkdir(parents=True)
    (folder / "Info_4CH.cfg").write_text("ED: 1\nES: 3\nLVef: 50\n")
    mhd = folder / "patient0001_4CH_half_sequence.mhd"
    mhd.write_text(
        "NDims = 3\nDimSize = 8 8 3\nElementType = MET_FLOAT\n"
        "ElementDataFile = patient0001_4CH_half_sequence.raw\n"
    )
    with_nan((3, 8, 8)).astype("<f4").tofile(folder / "patient0001_4CH_half_sequence.raw")
    dataset = CAMUS(tmp_path, "train", all_patients=True, **CAMUS_FAST)
    refused(tmp_path, DatasetContentError, lambda: dataset.load(0), mhd, "NaN or infinite")


def test_camus_nifti_sequence_with_inf(tmp_path):
    root = camus(tmp_path, {"patient0001": 50})
    dataset = CAMUS(root, "train", all_patients=True, **CAMUS_FAST)
    nifti(dataset.source_file(0), with_nan((8, 8, 4), -np.inf))
    refused(root, DatasetContentError, lambda: dataset.load(0), dataset.source_file(0))


def test_generic_csv_nifti_with_nan(tmp_path):
    nifti(tmp_path / "a.nii.gz", with_nan((4, 4, 4)))
    csv(tmp_path / "labels.csv", [{"path": "a.nii.gz", "target": 1.0}])
    dataset = CSVDataset(tmp_path, val=0, test=0)
    refused(tmp_path, DatasetContentError, lambda: dataset.load(0), tmp_path / "a.nii.gz")


def test_generic_csv_float_tiff_with_nan_pixel(tmp_path):
    Image.fromarray(with_nan((6, 6)), mode="F").save(tmp_path / "a.tif")
    csv(tmp_path / "labels.csv", [{"path": "a.tif", "target": 1.0}])
    dataset = CSVDataset(tmp_path, val=0, test=0)
    refused(
        tmp_path,
        DatasetContentError,
        lambda: dataset.load(0),
        f"image {tmp_path / 'a.tif'} holds 1 NaN or infinite pixels",
    )


def test_generic_csv_npy_with_inf(tmp_path):
    np.save(tmp_path / "a.npy", with_nan((3, 20), np.inf))
    csv(tmp_path / "labels.csv", [{"path": "a.npy", "target": 1.0}])
    dataset = CSVDataset(tmp_path, val=0, test=0)
    refused(tmp_path, DatasetContentError, lambda: dataset.load(0), tmp_path / "a.npy")


def test_hcp_mat_with_nan(tmp_path):
    import scipy.io

    root = hcp(tmp_path, {"HCA1": 600}, write=False)
    scipy.io.savemat(root / "HCA1_ts.mat", {"ts": with_nan((10, 4)).astype(np.float64)})
    dataset = HCPAgingFMRI(root, **HCP_FAST)
    refused(root, DatasetContentError, lambda: dataset.load(0), root / "HCA1_ts.mat", "NaN")


# -- a video shorter than its table --------------------------------------------------------


def test_echonet_avi_with_fewer_frames_than_number_of_frames(tmp_path):
    rows = [{"FileName": "0XA", "EF": 50, "NumberOfFrames": 9, "Split": "TRAIN"}]
    root = echonet(tmp_path, rows, frames=6)
    dataset = get_dataset("echonet", root)
    refused(
        root,
        DatasetContentError,
        lambda: dataset.load(0),
        dataset.source_file(0),
        "holds 6 frames but NumberOfFrames in FileList.csv says 9",
    )


def test_echonet_avi_with_the_frames_it_announces_loads(tmp_path):
    rows = [{"FileName": "0XA", "EF": 50, "NumberOfFrames": 6, "Split": "TRAIN"}]
    root = echonet(tmp_path, rows, frames=6)
    assert get_dataset("echonet", root).load(0).shape[1] == 6


def test_echonet_number_of_frames_that_is_not_a_number(tmp_path):
    rows = [{"FileName": "0XA", "EF": 50, "NumberOfFrames": "many", "Split": "TRAIN"}]
    root = echonet(tmp_path, rows)
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("echonet", root),
        "column 'NumberOfFrames'",
        "'many'",
    )


def test_echonet_video_cut_short_on_disk(tmp_path):
    rows = [{"FileName": "0XA", "EF": 50, "NumberOfFrames": 12, "Split": "TRAIN"}]
    root = echonet(tmp_path, rows, frames=12)
    avi(root / "Videos" / "0XA.avi", 4)  # the same file, written again with 4 frames
    dataset = get_dataset("echonet", root)
    refused(root, DatasetContentError, lambda: dataset.load(0), "holds 4 frames")


# -- the airfoil file ----------------------------------------------------------------------


def airfoil_copy(tmp_path: Path, change) -> Path:
    lines = (SHARED / FILENAME).read_bytes().decode().split("\r\n")
    (tmp_path / FILENAME).write_bytes("\r\n".join(change(lines)).encode())
    return tmp_path


@needs_airfoil
@pytest.mark.parametrize(
    "change",
    [
        lambda lines: [lines[0].replace("126.201", "126.202"), *lines[1:]],
        lambda lines: [lines[1], lines[0], *lines[2:]],
        lambda lines: [*lines[:-10], ""],
    ],
    ids=["one-value-changed", "rows-swapped", "rows-missing"],
)
def test_airfoil_file_whose_rows_differ_from_uci(tmp_path, change):
    root = airfoil_copy(tmp_path, change)
    refused(
        root,
        DatasetContentError,
        lambda: Airfoil(root, download=False),
        root / FILENAME,
        "differ from UCI's file",
        "verify=False",
    )


@needs_airfoil
def test_airfoil_copy_with_header_and_lf_endings_is_uci(tmp_path):
    text = (SHARED / FILENAME).read_bytes().decode().replace("\r\n", "\n")
    (tmp_path / FILENAME).write_text("Freq Angle Length Vel Displ Pressure\n" + text)
    assert len(Airfoil(tmp_path, "test", download=False)) == 150


@needs_airfoil
def test_airfoil_modified_copy_loads_with_verify_false(tmp_path):
    root = airfoil_copy(tmp_path, lambda lines: [lines[1], lines[0], *lines[2:]])
    dataset = Airfoil(root, "train", download=False, verify=False)
    assert len(dataset) + 300 == len(read_airfoil(root / FILENAME))


# -- the NDA table's description row -------------------------------------------------------


def test_hcp_table_without_description_row_keeps_its_first_subject(tmp_path):
    root = hcp(tmp_path, {"HCA1": 600, "HCA2": 700}, description=False)
    before = snapshot(root)
    with pytest.warns(DatasetContentWarning, match=r"no NDA description row .* subject 'HCA1'"):
        dataset = HCPAgingFMRI(root, **HCP_FAST)
    assert dataset.ids == ["HCA1", "HCA2"] and snapshot(root) == before


def test_hcp_table_with_description_row_reads_every_subject(tmp_path):
    root = hcp(tmp_path, {"HCA1": 600, "HCA2": 700})
    assert HCPAgingFMRI(root, **HCP_FAST).targets.tolist() == [50.0, 700 / 12]


# -- labels outside the documented range ---------------------------------------------------


@pytest.mark.parametrize("age", [241, -1])
def test_rsna_bone_age_outside_0_to_240_months(tmp_path, age):
    root = rsna(tmp_path, [("1", 100, True), ("2", age, False)])
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("rsna", root, image_size=8),
        root / "boneage-training-dataset.csv",
        f"2: {age}",
        "0-240 months",
    )


def test_echonet_ef_above_100_percent(tmp_path):
    rows = [
        {"FileName": "0XA", "EF": 55, "Split": "TRAIN"},
        {"FileName": "0XB", "EF": 120, "Split": "TEST"},
    ]
    root = echonet(tmp_path, rows)
    refused(root, DatasetContentError, lambda: get_dataset("echonet", root), "0XB: 120", "0-100 %")


def test_echonet_negative_volume(tmp_path):
    rows = [{"FileName": "0XA", "EF": 55, "ESV": -3, "Split": "TRAIN"}]
    root = echonet(tmp_path, rows)
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("echonet", root, target="ESV"),
        "end-systolic volume",
        ">= 0 mL",
    )


def test_agedb_age_above_120_years(tmp_path):
    rows = [{"age": 150, "path": "AgeDB/1_A_150_m.jpg", "split": "val"}]
    root = agedb(tmp_path, rows)
    refused(
        root, DatasetContentError, lambda: get_dataset("agedb", root), "AgeDB/1_A_150_m.jpg: 150"
    )


def test_imdbwiki_age_above_120_warns_and_above_200_is_refused(tmp_path):
    rows = [{"age": 150, "path": "imdb_crop/00/a.jpg", "split": "train"}]
    root = agedb(tmp_path, rows, "imdb_wiki.csv")
    with pytest.warns(DatasetContentWarning, match=r"outside the usual 0-120 years"):
        assert get_dataset("imdbwiki", root).targets.tolist() == [150.0]
    agedb(root, [{"age": 201, "path": "imdb_crop/00/a.jpg", "split": "train"}], "imdb_wiki.csv")
    refused(root, DatasetContentError, lambda: get_dataset("imdbwiki", root), "0-200 years")


def test_ukb_age_above_120_refused_and_unusual_age_warned(tmp_path):
    root = ukb(tmp_path, {"1000001": 60, "1000002": 130})
    refused(root, DatasetContentError, lambda: UKBiobankT1(root, **UKB_FAST), "1000002: 130")
    csv(
        root / "ukb.csv", [{"eid": "1000001", "21003-2.0": 60}, {"eid": "1000002", "21003-2.0": 12}]
    )
    with pytest.warns(DatasetContentWarning, match=r"1000002: 12"):
        UKBiobankT1(root, **UKB_FAST)


def test_a4_suvr_of_zero_refused_and_high_suvr_warned(tmp_path):
    root = a4(tmp_path, {"B1": 1.1, "B2": 0})
    refused(root, DatasetContentError, lambda: get_dataset("a4", root, **A4_FAST), "B2/2: 0", "> 0")
    root = a4(tmp_path / "other", {"B1": 1.1, "B2": 4.5})
    with pytest.warns(DatasetContentWarning, match=r"B2/2: 4.5"):
        get_dataset("a4", root, **A4_FAST)


def test_hcp_age_above_120_years(tmp_path):
    root = hcp(tmp_path, {"HCA1": 600, "HCA2": 1500})
    refused(
        root,
        DatasetContentError,
        lambda: HCPAgingFMRI(root, **HCP_FAST),
        root / "ndar_subject01.txt",
        "HCA2: 125",
    )


def test_camus_ef_above_100_percent(tmp_path):
    root = camus(tmp_path, {"patient0001": 50, "patient0002": 150})
    refused(
        root,
        DatasetContentError,
        lambda: CAMUS(root, "train", all_patients=True, **CAMUS_FAST),
        "patient0002: 150",
        "Info_4CH.cfg",
    )


def test_rhpe_bone_age_refused_and_chronological_age_warned(tmp_path):
    notes = tmp_path / "RHPE_Annotations"
    csv(
        notes / "RHPE_Boneage_train.csv",
        [{"ID": 1, "Male": True, "Boneage": 300, "Chronological": 400}],
    )
    png(tmp_path / "RHPE_train" / "00001.png")
    refused(
        tmp_path,
        DatasetContentError,
        lambda: get_dataset("rhpe", tmp_path, crop="none", image_size=8),
        "00001: 300",
    )
    with pytest.warns(DatasetContentWarning, match=r"00001: 400"):
        get_dataset("rhpe", tmp_path, crop="none", image_size=8, target="chronological")


def test_every_data_card_and_the_book_state_the_label_ranges():
    repository = Path(__file__).resolve().parents[2]
    book = (repository / "book" / "rerun.md").read_text()
    for key, spec in LABEL_RANGES.items():
        card = f"data_cards/{key.split('/')[0]}.md"
        assert spec.describe() in (repository / card).read_text(), f"{card}: {spec.describe()}"
        assert spec.describe() in book, f"book/rerun.md: {spec.describe()}"
