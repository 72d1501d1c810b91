"""What one look for offers costs does not grow with the number of people waiting: each service with
someone waiting is searched once, not once per entry."""

import pytest

from scheduling.services import CustomerData
from tests.waitlist.conftest import join

pytestmark = pytest.mark.django_db

WAITING = 15


@pytest.fixture
def long_line(full_day):
    provider, start, _dans = full_day
    for n in range(WAITING):
        join(provider, CustomerData(name=f"W{n}", email=f"w{n}@example.com"), start)
    return provider


def test_a_kick_searches_each_service_once_however_long_its_line(long_line, django_assert_max_num_queries):
    from waitlist.services import offers_make_for_provider

    with django_assert_max_num_queries(WAITING):  # one search is about ten queries; one per entry is 150
        assert offers_make_for_provider(provider_id=long_line.pk) == 0


def test_the_sweep_searches_each_service_once_however_long_its_line(long_line, django_assert_max_num_queries):
    from waitlist.services import waitlist_sweep

    with django_assert_max_num_queries(WAITING + 2):
        assert waitlist_sweep() == 0
