"""The ERP simulator fixtures: one process for the session, emptied before each test."""

import pytest

from .erp import ErpSimulator

SECRET = "test-secret"


@pytest.fixture(scope="session")
def _erp_simulator_process(tmp_path_factory):
    simulator = ErpSimulator(tmp_path_factory.mktemp("erp") / "erp.sqlite3", secrets=[SECRET])
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def erp_simulator(_erp_simulator_process) -> ErpSimulator:
    """A running simulator holding the secret "test-secret", with no records, zero counters
    and accept mode. Its URL is stable for the session, even across ``restart()``."""
    simulator = _erp_simulator_process
    if not simulator.running:
        simulator.start()
    simulator.reset()
    return simulator


@pytest.fixture
def erp_simulator_factory(tmp_path):
    """Start extra simulators (own secrets, own db file by default), stopped at teardown:
    ``erp_simulator_factory(secrets=["new"])``."""
    started: list[ErpSimulator] = []

    def start(secrets=(SECRET,), db_path=None) -> ErpSimulator:
        simulator = ErpSimulator(db_path or tmp_path / f"erp-{len(started)}.sqlite3", secrets)
        started.append(simulator)
        return simulator.start()

    yield start
    for simulator in started:
        simulator.stop()
