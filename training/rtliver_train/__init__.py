"""rt-liver training: teacher, growing teacher assistant (GTAN) and distilled students; ONNX export."""

__version__ = "0.1.0"
