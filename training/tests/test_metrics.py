import numpy as np
import pytest

from rtliver_train.metrics import dice_score, hd95, largest_component


def test_dice_hand_values():
    a = np.zeros((4, 4, 4), bool)
    b = np.zeros((4, 4, 4), bool)
    a[0, 0, :2] = True
    b[0, 0, 1:3] = True
    assert dice_score(a, b) == pytest.approx(2 * 1 / 4)
    assert dice_score(a, a) == 1.0 and dice_score(np.zeros(3), np.zeros(3)) == 1.0


def test_hd95_of_a_shifted_cube_is_the_shift_in_mm():
    a = np.zeros((20, 20, 20), bool)
    a[5:15, 5:15, 5:15] = True
    b = np.roll(a, 2, axis=0)  # 2 voxels along z
    assert hd95(a, b, (3.0, 1.0, 1.0)) == pytest.approx(6.0)
    assert hd95(a, a, (1, 1, 1)) == 0.0
    assert np.isnan(hd95(a, np.zeros_like(a), (1, 1, 1)))


def test_largest_component_keeps_the_biggest_26_connected_blob():
    mask = np.zeros((10, 10, 10), bool)
    mask[0:3, 0:3, 0:3] = True
    mask[3, 3, 3] = True  # touches the cube by a corner: 26-connected
    mask[7:9, 7:9, 7:9] = True
    kept = largest_component(mask)
    assert kept.sum() == 28 and not kept[8, 8, 8]


def test_the_evaluation_fixture_is_what_the_python_definitions_give():
    """The TypeScript core checks the same files (evaluation-parity.test.ts): both languages agree."""
    import json

    from rtliver_train.make_evaluation_fixture import FIXTURE_DIR, SPACING_XYZ, case
    from rtliver_train.metrics import postprocess_mask

    raw, reference = case()
    shape = raw.shape
    stored = {name: np.frombuffer((FIXTURE_DIR / f"{name}.u8.bin").read_bytes(), dtype=np.uint8).reshape(shape)
              for name in ("raw", "expected", "reference")}
    assert np.array_equal(stored["raw"], raw) and np.array_equal(stored["reference"], reference)
    expected = postprocess_mask(raw)
    assert np.array_equal(stored["expected"], expected)
    description = json.loads((FIXTURE_DIR / "case.json").read_text())
    assert description["dice"] == dice_score(expected, reference)
    assert description["hd95_mm"] == hd95(expected, reference, tuple(reversed(SPACING_XYZ)))


def test_post_processing_fills_a_tunnel_through_the_slices_and_keeps_a_corner_neighbour():
    from rtliver_train.metrics import postprocess_mask

    mask = np.zeros((6, 9, 12), dtype=bool)
    mask[:, 1:8, 1:8] = True
    mask[:, 4, 4] = False  # open at both ends in 3-D: only a per-slice fill closes it
    out = postprocess_mask(mask)
    assert out[:, 4, 4].all()
    lone = np.zeros((7, 9, 12), dtype=bool)
    lone[:6] = mask
    lone[6, 8, 8] = True  # touches the block only at the corner (5, 7, 7): 26-connected, kept
    lone[0, 0, 11] = True  # separate voxel, removed
    out = postprocess_mask(lone)
    assert out[6, 8, 8] and not out[0, 0, 11]


def test_surface_is_six_connected():
    """A 3x3x3 cube: 26 surface voxels (all but the centre) under either definition; a 3x3x1 slab has its centre
    on the surface only under the 6-connected one (its face neighbours above and below are outside)."""
    from rtliver_train.metrics import _surface

    cube = np.zeros((5, 5, 5), dtype=bool)
    cube[1:4, 1:4, 1:4] = True
    assert _surface(cube).sum() == 26
    thick = np.zeros((7, 7, 7), dtype=bool)
    thick[1:6, 1:6, 1:6] = True
    thick[3, 3, 3] = False  # the centre emptied: its 6 face neighbours become surface, not its 20 others
    assert _surface(thick).sum() == 98 + 6
