import pytest
import torch

from rtliver_train.models import BUDGETS, PRESETS, ConcatInputConv3d, UNet3d, UNetConfig, count_flops, count_parameters, extract_slice


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_parameter_budget(name):
    low, high = BUDGETS[name]
    assert low <= count_parameters(UNet3d(PRESETS[name])) <= high


def test_students_are_slices_of_the_teacher_and_cheaper():
    teacher = PRESETS["teacher"].channels
    for name in ("student-100k", "student-30k"):
        assert all(s <= t for s, t in zip(PRESETS[name].channels, teacher))
        assert count_flops(PRESETS[name]) < count_flops(PRESETS["teacher"]) / 10


@pytest.mark.parametrize("shape", [(16, 16, 16), (16, 32, 24), (24, 16, 40)])
def test_output_shape_follows_input(shape):
    model = UNet3d(UNetConfig(channels=(2, 3, 4, 5))).eval()
    with torch.no_grad():
        y = model(torch.randn(1, 1, *shape))
    assert y.shape == (1, 2, *shape)


def test_active_slice_equals_extracted_network():
    torch.manual_seed(1)
    big = UNet3d(UNetConfig(channels=(6, 8, 10, 12)))
    for p in big.parameters():
        p.data.normal_(0, 0.2)
    x = torch.randn(2, 1, 8, 16, 16)
    big.set_active_channels((3, 4, 5, 7))
    small = extract_slice(big, (3, 4, 5, 7))
    assert count_parameters(small) < count_parameters(big)
    torch.testing.assert_close(big(x), small(x), rtol=0, atol=1e-6)
    big.set_active_channels(None)
    assert big(x).shape == (2, 2, 8, 16, 16)


def test_active_channels_out_of_range_is_refused():
    with pytest.raises(ValueError, match="within"):
        UNet3d(UNetConfig(channels=(2, 3, 4, 5))).set_active_channels((3, 3, 4, 5))


@pytest.mark.parametrize("active_in,active_out", [(5, 6), (3, 4)])  # full width, then a slimmable slice
def test_decoder_join_equals_concatenation_then_convolution(active_in, active_out):
    """The decoder's two summed convolutions are the concat-then-conv of a U-Net, on the same weights."""
    torch.manual_seed(2)
    conv = ConcatInputConv3d(10, 6, 3, bias=True)
    conv.active_out = active_out
    skip, up = torch.randn(1, active_in, 6, 8, 7), torch.randn(1, active_in, 6, 8, 7)
    weight = torch.cat([conv.weight[:active_out, :active_in], conv.weight[:active_out, 5:5 + active_in]], dim=1)
    expected = torch.nn.functional.conv3d(torch.cat([skip, up], dim=1), weight, conv.bias[:active_out], padding=1)
    with torch.no_grad():
        assert torch.allclose(conv(skip, up), expected, atol=1e-5)
