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
