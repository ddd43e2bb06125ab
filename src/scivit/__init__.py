"""scivit: deep learning on scientific detector images."""

__version__ = "0.1.0"
