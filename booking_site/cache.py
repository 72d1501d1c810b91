"""Django's Redis cache backend, keeping one `redis.Redis` client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` around the same pool for every
cache operation, and redis-py's constructor fills a table of some 200 response callbacks each time:
about 0.12 ms of CPU per operation here, near half of a whole `cache.get` (0.30 ms). A booking POST
makes three cache operations (its throttle's read and write, the token-failure check). A client is
safe to share across threads and forks (the pool underneath checks its process id), so one per pool
is enough. Measured in docs/decisions/0007-api-cost-per-request.md.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
