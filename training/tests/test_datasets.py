import json
import os
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from layouts import (AFFINE_RAS, make_chaos_ct, make_ct_org, make_lits, make_msd, make_pairs, make_totalseg, phantom,
                     save_nifti)
from rtliver_train.datasets import discover, load_case, prepare_cases, select_split, write_split
from rtliver_train.errors import DataError
from rtliver_train.synth import check_disjoint

SHARED = Path(os.environ.get("RT_LIVER_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def expected_liver_lps(seed=0):
    """The phantom's liver (labels 1 and 2) in LPS (nz, ny, nx) order: the files are LPS-stored (negative RAS
    diagonal), so only the [i, j, k] -> (k, j, i) transpose applies."""
    return (phantom(seed)[1] > 0).transpose(2, 1, 0).astype(np.uint8)


@pytest.mark.parametrize("layout,make,count", [("msd", make_msd, 3), ("lits", make_lits, 2),
                                               ("ct-org", make_ct_org, 2), ("totalseg", make_totalseg, 2)])
def test_nifti_layouts_read_liver_and_tumour_as_liver(tmp_path, layout, make, count):
    cases = discover(layout, make(tmp_path / layout))
    assert len(cases) == count
    image, mask = load_case(cases[0])
    np.testing.assert_array_equal(mask, expected_liver_lps(0))
    assert image.voxels.shape == mask.shape and image.direction[0][0] == pytest.approx(1.0)
    assert image.spacing == pytest.approx((1.5, 1.5, 3.0))


def test_chaos_ct_dicom_and_png_masks(tmp_path):
    cases = discover("chaos-ct", make_chaos_ct(tmp_path / "chaos"))
    assert [c.id for c in cases] == ["chaos-1"]
    image, mask = load_case(cases[0])
    np.testing.assert_array_equal(mask, expected_liver_lps(0))
    np.testing.assert_array_equal(image.voxels, phantom(0)[0].transpose(2, 1, 0))


def test_pairs_list_with_configurable_liver_label(tmp_path):
    cases = discover("pairs", make_pairs(tmp_path / "pairs", liver_label=5))
    _, mask = load_case(cases[0])
    np.testing.assert_array_equal(mask, expected_liver_lps(7))


def test_prepared_case_is_on_the_model_grid_and_cached(tmp_path):
    cases = discover("msd", make_msd(tmp_path / "msd", n=1))
    first = prepare_cases(cases, (8, 16, 16), cache_dir=tmp_path / "cache")
    second = prepare_cases(cases, (8, 16, 16), cache_dir=tmp_path / "cache")
    assert first[0].image.shape == (8, 16, 16) and first[0].image.dtype == np.float32
    assert 0 < first[0].mask.sum() < first[0].mask.size
    np.testing.assert_array_equal(first[0].image, second[0].image)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1


def test_label_with_wrong_shape_names_the_file(tmp_path):
    root = make_msd(tmp_path / "msd", n=1)
    label = root / "labelsTr" / "liver_0.nii.gz"
    save_nifti(label, np.ones((20, 18, 9), np.uint8))
    with pytest.raises(DataError, match=r"liver_0\.nii\.gz has dimensions \[20, 18, 9\]"):
        load_case(discover("msd", root)[0])


def test_label_with_wrong_affine_names_the_file(tmp_path):
    root = make_msd(tmp_path / "msd", n=1)
    shifted = AFFINE_RAS.copy()
    shifted[2, 3] += 3.0
    save_nifti(root / "labelsTr" / "liver_0.nii.gz", phantom(0)[1], shifted)
    with pytest.raises(DataError, match=r"labelsTr/liver_0\.nii\.gz has an affine"):
        load_case(discover("msd", root)[0])


def test_missing_liver_label_names_the_file(tmp_path):
    path = make_pairs(tmp_path / "pairs", liver_label=5)
    listing = json.loads(path.read_text())
    listing["liverLabels"] = [1]
    path.write_text(json.dumps(listing))
    with pytest.raises(DataError, match=r"lab/a\.nii\.gz contains no liver voxels \(label value\(s\) \[1\]\)"):
        load_case(discover("pairs", path)[0])


def test_empty_dataset_and_empty_split_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="No cases found in .*empty"):
        discover("msd", tmp_path / "empty")
    cases = discover("msd", make_msd(tmp_path / "msd", n=3))
    split = tmp_path / "split.json"
    write_split(cases, split, val=0.0, test=0.34, seed=0, meta={})
    assert len(select_split(cases, split, "train")) == 2
    with pytest.raises(DataError, match=r"split\.json has no cases in 'val'"):
        select_split(cases, split, "val")


def test_split_file_is_deterministic(tmp_path):
    cases = discover("msd", make_msd(tmp_path / "msd", n=3))
    a = write_split(cases, tmp_path / "a.json", 0.34, 0.34, 3, {})
    b = write_split(cases, tmp_path / "b.json", 0.34, 0.34, 3, {})
    assert a == b and sorted(a["train"] + a["val"] + a["test"]) == [c.id for c in cases]


@pytest.mark.skipif(not (SHARED / "ct" / "dcmqi-3slice").exists(), reason=f"SKIPPED: {SHARED}/ct/dcmqi-3slice is absent")
def test_pairs_with_dicom_series_and_dicom_seg_on_real_data(tmp_path):
    base = SHARED / "ct" / "dcmqi-3slice" / "segmentations"
    listing = {"cases": [{"id": "dcmqi", "image": str(base / "ct-3slice"), "label": str(base / "liver.dcm")}]}
    (tmp_path / "pairs.json").write_text(json.dumps(listing))
    image, mask = load_case(discover("pairs", tmp_path / "pairs.json")[0])
    assert image.voxels.shape == mask.shape and mask.shape[0] == 3
    assert mask.sum() > 1000


def test_packed_cases_read_and_score_as_their_source(tmp_path):
    """pack -> layout npz: the same ids, grids, geometry, voxels and masks as the NIfTI source, so a split file
    and every score carry over; integral images shrink to int16, others stay float32."""
    import torch

    from rtliver_train.evaluate import evaluate_cases
    from rtliver_train.models import UNet3d, UNetConfig
    from rtliver_train.pack import compact, pack

    root = make_msd(tmp_path / "msd", n=2)
    pack("msd", root, tmp_path / "packed")
    source, packed = discover("msd", root), discover("npz", tmp_path / "packed")
    assert [c.id for c in packed] == [c.id for c in source]
    for a, b in zip(source, packed):
        (image_a, mask_a), (image_b, mask_b) = load_case(a), load_case(b)
        assert np.array_equal(image_a.voxels.astype(np.float32), image_b.voxels) and np.array_equal(mask_a, mask_b)
        assert (image_a.spacing, image_a.origin, image_a.direction) == (image_b.spacing, image_b.origin, image_b.direction)
    assert np.load(packed[0].image)["image"].dtype == np.int16
    assert compact(np.array([0.5, 1.0])).dtype == np.float32 and compact(np.array([40000.0])).dtype == np.float32
    torch.manual_seed(0)
    model = UNet3d(UNetConfig(channels=(4, 4, 8, 8))).eval()
    scores_a = evaluate_cases(model, source, (16, 24, 24), (-200, 300))
    scores_b = evaluate_cases(model, packed, (16, 24, 24), (-200, 300))
    assert json.dumps(scores_a) == json.dumps(scores_b)  # NaN-safe: an empty prediction's HD95 is NaN
    assert all(0.0 <= s["dice"] <= 1.0 for s in scores_a)


def test_a_damaged_packed_case_is_named(tmp_path):
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "c0.npz").write_bytes(b"PK\x03\x04 not a zip archive")
    with pytest.raises(DataError, match="c0.npz could not be read as a packed case"):
        load_case(discover("npz", tmp_path)[0])


def test_a_model_grid_case_is_not_a_packed_case(tmp_path):
    (tmp_path / "cases").mkdir()
    np.savez_compressed(tmp_path / "cases" / "c0.npz", hu=np.zeros((4, 4, 4)), mask=np.ones((4, 4, 4)))
    with pytest.raises(DataError, match="lacks image, spacing, origin, direction"):
        load_case(discover("npz", tmp_path)[0])


SPLITS = Path(__file__).resolve().parents[1] / "splits"


@pytest.mark.parametrize("split_file", sorted(SPLITS.glob("*.json")), ids=lambda path: path.name)
def test_every_committed_split_keeps_training_patients_out_of_validation_and_test(split_file):
    split = json.loads(split_file.read_text())
    assert split["train"] and split["val"] and split["test"]
    check_disjoint(split)  # by patient: synth-ircadb-10-v003 and ircadb-10 are one patient
