"""Shared by the importer's tests: a Slack emulator with a small synthetic workspace."""

from __future__ import annotations

import pytest

from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.synthetic import synthetic_tenant, synthetic_workspace


@pytest.fixture
def emulator():
    workspace = synthetic_workspace(synthetic_tenant(teams=1, channels=1, messages=1, users=12,
                                                     seed=3), seed=3)
    with SlackEmulator(workspace, rate_scale=100) as emu:
        yield emu
