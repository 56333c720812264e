"""Deterministic synthetic partnership data (`vrp demo-data`): see docs/demo-data.md."""

from vrp.demo.generator import DemoManifest, generate

__all__ = ["DemoManifest", "generate"]
