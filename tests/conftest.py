"""Fixtures shared by the scenario tests of the pilot and the supervisor."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.scenario.runner import Report, ScenarioRunner
from tests.scenario_helpers import scenario


@pytest.fixture
def run():
    def _run(
        events: list[dict[str, Any]], until: float, setup: Any = None, **kwargs: Any
    ) -> tuple[Report, ScenarioRunner]:
        runner = ScenarioRunner(scenario(events, kwargs.pop("site", None), kwargs.pop("stations", None)), **kwargs)
        if setup is not None:
            setup(runner)
        return runner.run(until), runner

    return _run
