import pytest

from tidings.jobs.tests import sample_tasks


@pytest.fixture(autouse=True)
def _fresh_calls():
    sample_tasks.CALLS.clear()
    yield
    sample_tasks.CALLS.clear()


@pytest.fixture
def calls():
    return sample_tasks.CALLS
