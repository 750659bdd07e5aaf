import numpy as np
import pytest

from lamina import _core, runtime


@pytest.fixture(params=runtime.supported_isas())
def each_isa(request):
    """Runs a test once per instruction-set variant this CPU supports."""
    old = _core.isa()
    _core.set_isa(request.param)
    yield request.param
    _core.set_isa(old)


@pytest.fixture(params=[1, 2])
def each_thread_count(request):
    old = _core.get_num_threads()
    _core.set_num_threads(request.param)
    yield request.param
    _core.set_num_threads(old)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
