"""Model-building tools for SpecDec Studio (GPT-2 architecture, ONNX export, Brown corpus)."""
