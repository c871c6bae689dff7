"""The acquisition variants of the robustness evaluation (robustness.py) keep the geometry exact: a voxel of a
variant lies where the scanner would have put it, so the transformed reference still outlines the liver."""

import numpy as np

from rtliver_train.image_io import load_nifti
from rtliver_train.robustness import (VARIANTS, coarser_grid, cranio_caudal_field, fatty_liver, in_plane_field,
                                     save_nifti, stacked_below)
from rtliver_train.volume import Volume


def oblique_ct():
    """A small CT on a slightly rotated grid, with a bright box as 'liver' and its mask."""
    angle = np.deg2rad(8)
    direction = ((np.cos(angle), np.sin(angle), 0.0), (-np.sin(angle), np.cos(angle), 0.0), (0.0, 0.0, 1.0))
    hu = np.full((30, 40, 48), -100, np.int16)
    reference = np.zeros(hu.shape, bool)
    reference[6:24, 10:30, 12:40] = True
    hu[reference] = 120
    return Volume(hu, (0.8, 0.7, 1.5), (-20.0, 30.0, 100.0), direction), reference


def centroid_world(volume: Volume, mask: np.ndarray) -> np.ndarray:
    k, j, i = np.argwhere(mask).mean(axis=0)
    return volume.index_to_world((i, j, k))


def test_thicker_slices_and_coarser_matrix_keep_the_liver_in_place():
    ct, reference = oblique_ct()
    for factors in ((2, 1, 1), (3, 1, 1), (1, 2, 2)):
        coarse, mask = coarser_grid(factors)(ct, reference, np.random.default_rng(0))
        assert coarse.voxels.shape == tuple(n // f for n, f in zip(ct.voxels.shape, factors))
        assert coarse.spacing == tuple(s * f for s, f in zip(ct.spacing, reversed(factors)))
        np.testing.assert_allclose(centroid_world(coarse, mask), centroid_world(ct, reference), atol=0.6)
        assert abs(mask.sum() * coarse.voxel_volume_ml() - reference.sum() * ct.voxel_volume_ml()) \
            < 0.1 * reference.sum() * ct.voxel_volume_ml()
        assert np.all(coarse.voxels[mask] > 0)  # averaged HU follows the mask


def test_cropped_fields_of_view_keep_world_positions():
    ct, reference = oblique_ct()
    for make in (cranio_caudal_field("upper"), cranio_caudal_field("lower"), cranio_caudal_field("middle"),
                 in_plane_field(20.0)):
        cropped, mask = make(ct, reference, np.random.default_rng(0))
        assert cropped.voxels.shape == mask.shape and mask.any()
        first = np.argwhere(mask)[0]
        k, j, i = first
        # the same voxel of the original: found by world position, must be inside the original reference
        world = cropped.index_to_world((i, j, k))
        original = np.linalg.solve(ct.index_to_world_matrix(), world - np.asarray(ct.origin))
        i0, j0, k0 = np.rint(original).astype(int)
        np.testing.assert_allclose(original, (i0, j0, k0), atol=1e-6)
        assert reference[k0, j0, i0] and cropped.voxels[k, j, i] == ct.voxels[k0, j0, i0]
    upper, upper_mask = cranio_caudal_field("upper")(ct, reference, np.random.default_rng(0))
    assert 0.3 * reference.sum() < upper_mask.sum() < 0.7 * reference.sum()  # the lower liver is cut off


def test_a_series_stacked_below_keeps_the_original_in_place_and_adds_no_liver():
    ct, reference = oblique_ct()
    # another "patient": 10 slices of 3 mm on an axis-aligned 2 mm grid, body (0 HU) off-centre
    lower_hu = np.full((10, 30, 30), -1000, np.int16)
    lower_hu[:, 5:25, 10:30] = 0
    lower = Volume(lower_hu, (2.0, 2.0, 3.0), (0.0, 0.0, -50.0), ((1, 0, 0), (0, 1, 0), (0, 0, 1)))
    longer, mask = stacked_below(ct, reference, lower)
    added = 20  # 30 mm of slices at the CT's 1.5 mm
    assert longer.voxels.shape == (ct.voxels.shape[0] + added, *ct.voxels.shape[1:]) == mask.shape
    assert not mask[:added].any() and np.array_equal(mask[added:], reference)
    assert np.array_equal(longer.voxels[added:], ct.voxels)
    np.testing.assert_allclose(longer.index_to_world((3, 4, added)), ct.index_to_world((3, 4, 0)), atol=1e-9)
    # the added slices hold the other series' body, centred on this one's (the CT's body is all of its pixels)
    body = longer.voxels[:added] > -500
    assert body.any() and np.all(body == body[0])
    rows, columns = np.nonzero(body[0])
    assert abs(rows.mean() - 19.5) < 1.0 and abs(columns.mean() - 23.5) < 1.0


def test_every_variant_writes_a_nifti_that_reads_back_on_the_same_grid(tmp_path):
    ct, reference = oblique_ct()
    for name, (_, make) in VARIANTS.items():
        variant, mask = make(ct, reference, np.random.default_rng(1))
        path = tmp_path / f"{name}.nii.gz"
        save_nifti(variant, path)
        back = load_nifti(path)
        assert back.voxels.shape == variant.voxels.shape, name
        np.testing.assert_allclose(back.origin, variant.origin, atol=1e-4)
        np.testing.assert_allclose(back.spacing, variant.spacing, atol=1e-5)
        np.testing.assert_allclose(np.asarray(back.direction), np.asarray(variant.direction), atol=1e-5)
        assert np.array_equal(back.voxels, variant.voxels.astype(np.int16)), name


def test_a_fatty_liver_darkens_the_parenchyma_and_leaves_vessels_and_the_rest():
    """Steatosis: the liver's inside 40 HU darker, a vessel 150 HU above it and everything 3 mm or more outside
    the liver unchanged, and a ramp at the liver's edge rather than a step along the label."""
    ct, reference = oblique_ct()
    hu = ct.voxels.copy()
    vessel = np.zeros_like(reference)
    vessel[10:20, 18:21, 20:23] = True
    hu[vessel] = 270
    ct = ct.with_voxels(hu)
    fatty, mask = fatty_liver(40.0)(ct, reference, np.random.default_rng(0))
    assert np.array_equal(mask, reference)
    change = ct.voxels.astype(np.int32) - fatty.voxels.astype(np.int32)
    core = np.zeros_like(reference)
    core[9:21, 13:27, 15:37] = True
    assert np.all(change[core & ~vessel] >= 39)
    assert np.all(change[vessel] == 0)
    outside = np.ones_like(reference)
    outside[3:27, 6:34, 8:44] = False
    assert np.all(change[outside] == 0)
    edge = change[15, 20, 10:15]  # across the liver's edge at column 12
    assert 0 < edge[2] < 39
