import pytest
import torch

from rtliver_train.checkpoint import load_export_model, save_checkpoint
from rtliver_train.errors import TrainingError
from rtliver_train.models import UNet3d, UNetConfig
from rtliver_train.soup import average_state_dicts, main, make_soup

CHANNELS = (2, 3, 4, 5)


def write_run(path, seed, channels=CHANNELS, norm="instance", init_onnx="models/student-30k.onnx", step=300):
    torch.manual_seed(seed)
    model = UNet3d(UNetConfig(channels=channels, norm=norm))
    save_checkpoint(path, {"model_args": model.config.to_dict(), "model": model.state_dict(), "export_channels": None,
                           "config": {"init_onnx": init_onnx, "seed": seed}, "step": step,
                           "description": "student", "training_summary": {"method": "kd", "seeds": [seed]}})
    return model


def test_the_soup_is_the_element_wise_mean_and_export_reads_it(tmp_path):
    models = [write_run(tmp_path / f"s{seed}.pt", seed) for seed in (3, 4, 5)]
    payload = make_soup([tmp_path / f"s{seed}.pt" for seed in (3, 4, 5)])
    for key, value in payload["model"].items():
        expected = sum(m.state_dict()[key] for m in models) / 3
        assert torch.allclose(value, expected, atol=1e-7), key
    assert payload["training_summary"]["seeds"] == [3, 4, 5]
    assert payload["training_summary"]["soup"]["kind"] == "uniform"
    assert len(payload["training_summary"]["soup"]["ingredients"]) == 3

    main([str(tmp_path / f"s{seed}.pt") for seed in (3, 4, 5)] + ["--out", str(tmp_path / "soup.pt")])
    soup, checkpoint = load_export_model(tmp_path / "soup.pt")
    assert checkpoint["description"].startswith("uniform soup of 3 runs")
    x = torch.randn(1, 1, 16, 16, 16)
    reference = UNet3d(UNetConfig(channels=CHANNELS))
    reference.load_state_dict(payload["model"])
    with torch.no_grad():
        assert torch.equal(soup(x), reference.eval()(x))


def test_a_soup_of_one_run_twice_is_that_run():
    model = UNet3d(UNetConfig(channels=CHANNELS))
    state = model.state_dict()
    for key, value in average_state_dicts([state, state]).items():
        assert torch.equal(value, state[key])


def test_non_float_tensors_must_agree():
    a = {"w": torch.ones(2), "count": torch.tensor([1])}
    assert torch.equal(average_state_dicts([a, {"w": torch.zeros(2), "count": torch.tensor([1])}])["w"],
                       torch.full((2,), 0.5))
    with pytest.raises(TrainingError, match="non-float tensor 'count'"):
        average_state_dicts([a, {"w": torch.zeros(2), "count": torch.tensor([2])}])


@pytest.mark.parametrize("other, words", [
    (dict(channels=(2, 3, 4, 6)), "another architecture"),
    (dict(norm="mean-only"), "another architecture"),
    (dict(init_onnx="models/student-100k.onnx"), "started from other weights"),
])
def test_runs_that_do_not_line_up_are_refused(tmp_path, other, words):
    write_run(tmp_path / "a.pt", 3)
    write_run(tmp_path / "b.pt", 4, **other)
    with pytest.raises(TrainingError, match=words):
        make_soup([tmp_path / "a.pt", tmp_path / "b.pt"])


def test_runs_from_random_weights_and_a_lone_run_are_refused(tmp_path):
    write_run(tmp_path / "a.pt", 3, init_onnx=None)
    write_run(tmp_path / "b.pt", 4, init_onnx=None)
    with pytest.raises(TrainingError, match="random weights"):
        make_soup([tmp_path / "a.pt", tmp_path / "b.pt"])
    with pytest.raises(TrainingError, match="two or more"):
        make_soup([tmp_path / "a.pt"])
    with pytest.raises(SystemExit, match="error: .*two or more"):
        main([str(tmp_path / "a.pt"), "--out", str(tmp_path / "soup.pt")])
    assert not (tmp_path / "soup.pt").exists()
