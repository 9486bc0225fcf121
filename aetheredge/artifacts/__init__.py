"""What a registered version is made of: the MLflow registry, the compiled (ONNX) trees and
their verification, and the training distribution kept for drift checks.
"""
