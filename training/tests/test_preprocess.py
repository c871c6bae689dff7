import json

import numpy as np
import pytest
import torch

from rtliver_train.make_preprocessing_fixtures import FIXTURE_DIR, cases
from rtliver_train.preprocess import (apply_hu_window, lps_axis_order, preprocess, reorient_to_lps,
                                      resample_half_pixel, resample_half_pixel_reference)
from rtliver_train.volume import Volume

CASES = sorted(p.name for p in FIXTURE_DIR.iterdir() if (p / "case.json").exists())


def load_case(name):
    description = json.loads((FIXTURE_DIR / name / "case.json").read_text())
    nx, ny, nz = description["input"]["dimensions"]
    voxels = np.fromfile(FIXTURE_DIR / name / "input.i16.bin", dtype="<i2").reshape(nz, ny, nx)
    geometry = description["input"]
    volume = Volume(voxels, tuple(geometry["spacing"]), tuple(geometry["origin"]),
                    tuple(tuple(axis) for axis in geometry["direction"]))
    expected = np.fromfile(FIXTURE_DIR / name / "expected.f32.bin", dtype="<f4").reshape(description["output"]["shape"])
    return description, volume, expected


def test_three_committed_cases():
    assert CASES == ["lps-native", "permuted-oblique", "ras"]


@pytest.mark.parametrize("name", CASES)
def test_python_preprocessing_matches_committed_fixture(name):
    description, volume, expected = load_case(name)
    actual = preprocess(volume, description["output"]["shape"], description["huWindow"])
    np.testing.assert_allclose(actual, expected, rtol=0, atol=description["tolerance"])
    assert expected.min() >= -1 and expected.max() <= 1 and expected.std() > 0.1
    reoriented = reorient_to_lps(volume).geometry_dict()
    for key in ("dimensions", "spacing", "origin"):
        np.testing.assert_allclose(reoriented[key], description["reoriented"][key], atol=1e-9)


@pytest.mark.parametrize("name", sorted(cases()))
def test_reorientation_keeps_every_voxel_at_its_world_position(name):
    volume = cases()[name]
    lps = reorient_to_lps(volume)
    order, signs = lps_axis_order(lps.direction)
    assert order == (0, 1, 2) and signs == (1, 1, 1)
    rng = np.random.default_rng(0)
    nx, ny, nz = volume.dimensions
    for _ in range(20):
        index = (rng.integers(nx), rng.integers(ny), rng.integers(nz))
        world = volume.index_to_world(index)
        new_index = np.linalg.solve(lps.index_to_world_matrix(), world - np.asarray(lps.origin))
        ni, nj, nk = np.rint(new_index).astype(int)
        np.testing.assert_allclose(new_index, [ni, nj, nk], atol=1e-9)
        assert lps.voxels[nk, nj, ni] == volume.voxels[index[2], index[1], index[0]]


def test_ras_case_flips_i_and_j():
    volume = cases()["ras"]
    lps = reorient_to_lps(volume)
    np.testing.assert_array_equal(lps.voxels, volume.voxels[:, ::-1, ::-1])


@pytest.mark.parametrize("shape_in,shape_out", [((11, 19, 23), (16, 16, 32)), ((7, 5, 9), (3, 12, 9)), ((1, 4, 4), (2, 8, 3))])
def test_interpolate_equals_the_half_pixel_formula(shape_in, shape_out):
    values = np.random.default_rng(1).normal(size=shape_in).astype(np.float32)
    np.testing.assert_allclose(resample_half_pixel(values, shape_out),
                               resample_half_pixel_reference(values, shape_out), atol=1e-5)


def test_half_pixel_hand_computed_1d():
    # 4 -> 2 samples at source (0.5, 2.5): halfway between neighbours; 2 -> 4 samples at (-0.25->0, 0.25, 0.75, 1.25->1)
    down = resample_half_pixel(np.array([0, 10, 20, 30], np.float32).reshape(1, 1, 4), (1, 1, 2))
    np.testing.assert_allclose(down.ravel(), [5, 25])
    up = resample_half_pixel(np.array([0, 8], np.float32).reshape(1, 1, 2), (1, 1, 4))
    np.testing.assert_allclose(up.ravel(), [0, 2, 6, 8])


def test_hu_window():
    np.testing.assert_allclose(apply_hu_window(np.array([-1000, -200, 50, 300, 2000.0])), [-1, -1, 0, 1, 1])
