"""The model contract's input constants (models/README.md), in one place for training, evaluation and export.

The TypeScript core reads the same values from each model's manifest entry (`input.shape`, `input.huWindow`),
which the export writes from here; the pre-processing fixtures prove both sides resample alike.
"""

MODEL_SHAPE = (64, 128, 128)  # the network's input grid [D, H, W] = [k, j, i]
HU_WINDOW = (-200.0, 300.0)  # HU mapped linearly onto [-1, 1], clipped outside
# ONNX metadata key under which an export records its network's normalisation (models.NORMS); onnx_weights reads
# it to refuse loading back anything it cannot rebuild
NORMALISATION_METADATA_KEY = "rtliver.normalisation"
