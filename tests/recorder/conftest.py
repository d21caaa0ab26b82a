"""Fixtures for the recorder tests (defined in tests/recorder_helpers.py)."""

from recorder_helpers import recorder_env, start_recording

__all__ = ["recorder_env", "start_recording"]
