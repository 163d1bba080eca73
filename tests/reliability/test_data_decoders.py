"""Files a decoder cannot read: each becomes a DatasetContentError naming the file and what was
expected, never a library traceback (nibabel, numpy, scipy.io, OpenCV, Pillow, pandas); the
dataset folder is left as it was."""

from __future__ import annotations

import gzip
import io
import zipfile

import nibabel as nib
import numpy as np
import pytest
import scipy.io
from data_kit import (
    A4_FAST,
    CAMUS_FAST,
    HCP_FAST,
    UKB_FAST,
    a4,
    camus,
    csv,
    echonet,
    hcp,
    png,
    refused,
    rsna,
    ukb,
)

from supremix.data import DatasetContentError, get_dataset
from supremix.data.camus import CAMUS
from supremix.data.generic import CSVDataset
from supremix.data.hcp import HCPAgingFMRI
from supremix.data.ukb import UKBiobankT1

IMAGE = "T1/T1_brain_to_MNI.nii.gz"


def nifti_bytes(shape: tuple[int, ...], *, compress: bool) -> bytes:
    """A NIfTI-1 file of random voxels (incompressible, so a cut gzip stream is short)."""
    data = np.random.default_rng(0).random(shape, dtype=np.float32)
    raw = nib.Nifti1Image(data, np.eye(4)).to_bytes()
    return gzip.compress(raw) if compress else raw


# -- NIfTI (UK Biobank, A4, CAMUS, the generic loader) -------------------------------------


def ukb_with_image(tmp_path, content: bytes):
    """A one-subject UK Biobank folder whose image file holds ``content``."""
    root = ukb(tmp_path, {"1000001": 60})
    (root / "1000001" / IMAGE).write_bytes(content)
    return root, UKBiobankT1(root, **UKB_FAST)


def test_ukb_truncated_gzip_nifti(tmp_path):
    whole = nifti_bytes((6, 6, 6), compress=True)
    root, dataset = ukb_with_image(tmp_path, whole[: len(whole) // 2])
    path = dataset.source_file(0)
    refused(root, DatasetContentError, lambda: dataset.load(0), path, "expected a complete NIfTI")


def test_ukb_nifti_with_fewer_data_bytes_than_its_header_declares(tmp_path):
    whole = nifti_bytes((6, 6, 6), compress=False)
    root, dataset = ukb_with_image(tmp_path, gzip.compress(whole[: len(whole) - 300]))
    refused(root, DatasetContentError, lambda: dataset.load(0), dataset.source_file(0), "NIfTI-1/2")


def test_ukb_nifti_header_with_an_impossible_dimension_count(tmp_path):
    raw = bytearray(nifti_bytes((6, 6, 6), compress=False))
    raw[40:42] = (9).to_bytes(2, "little")  # dim[0] = 9
    root, dataset = ukb_with_image(tmp_path, gzip.compress(bytes(raw)))
    refused(root, DatasetContentError, lambda: dataset.load(0), dataset.source_file(0))


def test_ukb_image_that_is_not_nifti(tmp_path):
    root, dataset = ukb_with_image(tmp_path, gzip.compress(b"<html>login page</html>" * 20))
    refused(root, DatasetContentError, lambda: dataset.load(0), dataset.source_file(0), "NIfTI-1/2")


def test_ukb_zip_whose_member_is_truncated(tmp_path):
    root = ukb(tmp_path, {"1000001": 60})
    for path in sorted((root / "1000001").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (root / "1000001").rmdir()
    whole = nifti_bytes((6, 6, 6), compress=True)
    archive = root / "1000001_20252_2_0.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr(IMAGE, whole[:100])
    dataset = UKBiobankT1(root, **UKB_FAST)
    refused(root, DatasetContentError, lambda: dataset.load(0), f"{archive}!{IMAGE}")


def test_ukb_zip_that_is_not_a_zip(tmp_path):
    root = ukb(tmp_path, {"1000001": 60})
    for path in sorted((root / "1000001").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (root / "1000001").rmdir()
    archive = root / "1000001_20252_2_0.zip"
    archive.write_bytes(b"partial download")
    dataset = UKBiobankT1(root, **UKB_FAST)
    refused(root, DatasetContentError, lambda: dataset.load(0), f"unreadable zip {archive}")


def test_a4_empty_pet_file(tmp_path):
    root = a4(tmp_path, {"B1": 1.1})
    dataset = get_dataset("a4", root, **A4_FAST)
    dataset.source_file(0).write_bytes(b"")
    refused(root, DatasetContentError, lambda: dataset.load(0), dataset.source_file(0))


def test_a4_pet_file_with_garbage_after_the_gzip_magic(tmp_path):
    root = a4(tmp_path, {"B1": 1.1})
    dataset = get_dataset("a4", root, **A4_FAST)
    dataset.source_file(0).write_bytes(b"\x1f\x8b" + b"garbage" * 30)
    refused(
        root,
        DatasetContentError,
        lambda: dataset.load(0),
        f"unreadable PET {dataset.source_file(0)}",
    )


def test_camus_truncated_half_sequence(tmp_path):
    root = camus(tmp_path, {"patient0001": 50})
    dataset = CAMUS(root, "train", all_patients=True, **CAMUS_FAST)
    path = dataset.source_file(0)
    path.write_bytes(path.read_bytes()[:60])
    refused(root, DatasetContentError, lambda: dataset.load(0), f"unreadable sequence {path}")


def test_camus_metaimage_with_a_short_raw_file(tmp_path):
    folder = tmp_path / "training" / "patient0001"
    folder.mkdir(parents=True)
    (folder / "Info_4CH.cfg").write_text("ED: 1\nES: 3\nLVef: 50\nSex: M\n")
    (folder / "patient0001_4CH_half_sequence.mhd").write_text(
        "NDims = 3\nDimSize = 8 8 3\nElementType = MET_UCHAR\n"
        "ElementDataFile = patient0001_4CH_half_sequence.raw\n"
    )
    (folder / "patient0001_4CH_half_sequence.raw").write_bytes(bytes(100))
    dataset = CAMUS(tmp_path, "train", all_patients=True, **CAMUS_FAST)
    refused(
        tmp_path,
        DatasetContentError,
        lambda: dataset.load(0),
        folder / "patient0001_4CH_half_sequence.mhd",
        "expected 192",
    )


def test_camus_metaimage_with_damaged_zlib_data(tmp_path):
    folder = tmp_path / "training" / "patient0001"
    folder.mkdir(parents=True)
    (folder / "Info_4CH.cfg").write_text("ED: 1\nES: 3\nLVef: 50\n")
    (folder / "patient0001_4CH_half_sequence.mhd").write_text(
        "NDims = 3\nDimSize = 8 8 3\nElementType = MET_UCHAR\nCompressedData = True\n"
        "ElementDataFile = patient0001_4CH_half_sequence.raw\n"
    )
    (folder / "patient0001_4CH_half_sequence.raw").write_bytes(b"x\x9c not deflate")
    dataset = CAMUS(tmp_path, "train", all_patients=True, **CAMUS_FAST)
    refused(tmp_path, DatasetContentError, lambda: dataset.load(0), "patient0001_4CH_half_sequence")


def test_generic_csv_truncated_nifti(tmp_path):
    whole = nifti_bytes((4, 4, 4), compress=True)
    (tmp_path / "a.nii.gz").write_bytes(whole[:-30])
    csv(tmp_path / "labels.csv", [{"path": "a.nii.gz", "target": 1.0}])
    dataset = CSVDataset(tmp_path, val=0, test=0)
    refused(tmp_path, DatasetContentError, lambda: dataset.load(0), tmp_path / "a.nii.gz")


# -- .npy, .mat and .csv arrays (HCP, the generic loader) ----------------------------------


def hcp_with_file(tmp_path, name: str, content: bytes):
    root = hcp(tmp_path, {"HCA1": 600}, write=False)
    (root / name).write_bytes(content)
    return root, HCPAgingFMRI(root, **HCP_FAST)


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"", "EOFError"),
        (npy_bytes(np.zeros((10, 4)))[:200], "ValueError"),
        (npy_bytes(np.zeros((10, 4)))[:60], "ValueError"),
        (npy_bytes(np.array([{"a": 1}], dtype=object)), "allow_pickle=False"),
    ],
    ids=["empty", "truncated-data", "truncated-header", "pickled-object"],
)
def test_hcp_npy_that_numpy_cannot_load(tmp_path, content, what):
    root, dataset = hcp_with_file(tmp_path, "HCA1_ts.npy", content)
    refused(
        root,
        DatasetContentError,
        lambda: dataset.load(0),
        root / "HCA1_ts.npy",
        what,
        "expected a 2-D numeric array saved by numpy.save",
    )


def mat_bytes() -> bytes:
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, {"ts": np.zeros((10, 4))})
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [b"", mat_bytes()[: len(mat_bytes()) // 2], mat_bytes()[:100], b"hello world" * 30],
    ids=["empty", "truncated", "header-only", "not-matlab"],
)
def test_hcp_mat_that_scipy_cannot_load(tmp_path, content):
    root, dataset = hcp_with_file(tmp_path, "HCA1_ts.mat", content)
    refused(
        root,
        DatasetContentError,
        lambda: dataset.load(0),
        root / "HCA1_ts.mat",
        "expected a MATLAB v4-v7.2 file",
    )


def test_hcp_csv_with_a_text_cell(tmp_path):
    content = "\n".join(",".join(["0.5"] * 4) for _ in range(9)) + "\n0.1,oops,0.2,0.3\n"
    root, dataset = hcp_with_file(tmp_path, "HCA1_ts.csv", content.encode())
    refused(root, DatasetContentError, lambda: dataset.load(0), root / "HCA1_ts.csv")


def test_hcp_subjects_of_different_lengths_without_length(tmp_path):
    root = hcp(tmp_path, {"HCA1": 600, "HCA2": 700})
    np.save(root / "HCA2_ts.npy", np.random.default_rng(0).standard_normal((7, 4)))
    dataset = HCPAgingFMRI(root, **HCP_FAST)
    refused(
        root,
        DatasetContentError,
        lambda: dataset.load(1),
        root / "HCA2_ts.npy",
        "holds 7 frames",
        root / "HCA1_ts.npy",
        "pass length=",
    )
    assert HCPAgingFMRI(root, length=8, **HCP_FAST).load(1).shape == (4, 8)


@pytest.mark.parametrize(
    ("content", "what"),
    [(b"", "EOFError"), (npy_bytes(np.zeros((3, 20)))[:100], "ValueError")],
    ids=["empty", "truncated"],
)
def test_generic_csv_npy_that_numpy_cannot_load(tmp_path, content, what):
    (tmp_path / "a.npy").write_bytes(content)
    csv(tmp_path / "labels.csv", [{"path": "a.npy", "target": 1.0}])
    dataset = CSVDataset(tmp_path, val=0, test=0)
    refused(
        tmp_path,
        DatasetContentError,
        lambda: dataset.load(0),
        tmp_path / "a.npy",
        what,
        "expected a numeric .npy array",
    )


def test_generic_csv_series_with_text(tmp_path):
    (tmp_path / "a.csv").write_text("1,2\n3,x\n")
    csv(tmp_path / "labels.csv", [{"path": "a.csv", "target": 1.0}])
    dataset = CSVDataset(tmp_path, val=0, test=0)
    refused(tmp_path, DatasetContentError, lambda: dataset.load(0), tmp_path / "a.csv")


# -- label cells, videos, images -----------------------------------------------------------


def test_echonet_ef_that_is_not_a_number(tmp_path):
    rows = [
        {"FileName": "0XA", "EF": "55.1", "Split": "TRAIN"},
        {"FileName": "0XB", "EF": "sixty", "Split": "TRAIN"},
    ]
    root = echonet(tmp_path, rows)
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("echonet", root),
        "column 'EF'",
        root / "FileList.csv",
        "row 3 (id 0XB): 'sixty'",
    )


def test_echonet_empty_ef_cell(tmp_path):
    rows = [{"FileName": "0XA", "EF": "", "Split": "VAL"}]
    root = echonet(tmp_path, rows)
    refused(root, DatasetContentError, lambda: get_dataset("echonet", root, "val"), "row 2")


def test_echonet_video_that_opencv_cannot_open(tmp_path):
    root = echonet(tmp_path, [{"FileName": "0XA", "EF": 50, "Split": "TRAIN"}])
    dataset = get_dataset("echonet", root)
    dataset.source_file(0).write_bytes(b"RIFF....AVI LIST" + bytes(50))
    refused(
        root,
        DatasetContentError,
        lambda: dataset.load(0),
        dataset.source_file(0),
        "expected an AVI OpenCV decodes",
    )


def test_rsna_truncated_png(tmp_path):
    root = rsna(tmp_path, [(str(i), 10 * i, True) for i in range(1, 5)])
    dataset = get_dataset("rsna", root, validation="seeded", image_size=8)
    path = dataset.source_file(0)
    path.write_bytes(path.read_bytes()[:40])
    refused(root, DatasetContentError, lambda: dataset.load(0), f"cannot read image {path}")


def test_ukb_age_that_is_not_a_number(tmp_path):
    root = ukb(tmp_path, {"1000001": 60, "1000002": "sixty", "1000003": "inf"})
    refused(
        root,
        DatasetContentError,
        lambda: UKBiobankT1(root, **UKB_FAST),
        root / "ukb.csv",
        "row 3: 'sixty', row 4: 'inf'",
    )


def test_a4_suvr_that_is_not_a_number(tmp_path):
    root = a4(tmp_path, {"B1": 1.1, "B2": "n/a?"})
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("a4", root, **A4_FAST),
        root / "imaging_SUVR_amyloid.csv",
        "row 3: 'n/a?'",
    )


def test_hcp_age_that_is_not_a_number(tmp_path):
    root = hcp(tmp_path, {"HCA1": 600, "HCA2": "old"})
    refused(
        root,
        DatasetContentError,
        lambda: HCPAgingFMRI(root, **HCP_FAST),
        "column 'interview_age'",
        "row 4 (id HCA2): 'old'",
    )


def test_camus_ef_that_is_not_a_number(tmp_path):
    root = camus(tmp_path, {"patient0001": 50, "patient0002": "n.a."})
    refused(
        root,
        DatasetContentError,
        lambda: CAMUS(root, "train", all_patients=True, **CAMUS_FAST),
        root / "database_nifti" / "patient0002" / "Info_4CH.cfg",
        "(EF: 'n.a.')",
    )


def test_rhpe_label_file_with_a_ragged_row(tmp_path):
    notes = tmp_path / "RHPE_Annotations"
    notes.mkdir()
    (notes / "RHPE_Boneage_train.csv").write_text(
        "ID,Male,Boneage,Chronological\n1,True,100,100\n2,False,90,80,77,12\n"
    )
    png(tmp_path / "RHPE_train" / "00001.png")
    refused(
        tmp_path,
        DatasetContentError,
        lambda: get_dataset("rhpe", tmp_path, crop="none", image_size=8),
        notes / "RHPE_Boneage_train.csv",
        "expected a CSV table",
    )


def test_echonet_volume_tracings_with_a_text_coordinate(tmp_path):
    root = echonet(tmp_path, [{"FileName": "0XA", "EF": 50, "Split": "TRAIN"}])
    (root / "VolumeTracings.csv").write_text(
        "FileName,X1,Y1,X2,Y2,Frame\n0XA.avi,1,2,3,4,10\n0XA.avi,1,two,3,4,10\n"
    )
    refused(
        root,
        DatasetContentError,
        lambda: get_dataset("echonet", root),
        root / "VolumeTracings.csv",
        "rows 3 ",
    )


def test_generic_csv_video_opencv_cannot_open(tmp_path):
    (tmp_path / "a.avi").write_bytes(b"not a video at all" * 10)
    csv(tmp_path / "labels.csv", [{"path": "a.avi", "target": 1.0}])
    dataset = CSVDataset(tmp_path, val=0, test=0)
    refused(
        tmp_path,
        DatasetContentError,
        lambda: dataset.load(0),
        tmp_path / "a.avi",
        "expected a video OpenCV decodes",
    )
