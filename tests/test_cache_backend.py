"""booking_site/cache.py: Django's Redis cache, with one client per connection pool."""

from django.core.cache import cache


def test_every_operation_uses_the_same_client(private_cache):
    client = cache._cache.get_client(write=True)

    assert cache._cache.get_client() is client
    assert cache._cache.get_client("any key", write=False) is client


def test_values_round_trip_through_the_shared_client(private_cache):
    cache.set("answer", {"n": 42}, 30)
    assert cache.add("counter", 1, 30)
    assert cache.incr("counter") == 2

    assert cache.get_many(["answer", "counter"]) == {"answer": {"n": 42}, "counter": 2}
    cache.delete_many(["answer", "counter"])
    assert cache.get("answer") is None
