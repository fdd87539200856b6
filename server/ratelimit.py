"""Rate limits per caller, kept in Redis so that every API process shares them.

A request is charged to one budget by its operation: queries and mutations have their
own, and a mutation costs the weights of its root fields (see `charge_of`). The caller
is the signed-in user, or the client IP for anonymous callers. Every transport is
charged the same way: HTTP (GraphQL and REST), both GraphQL WebSocket subprotocols
(each operation a socket sends) and `/ws` (each subscription). Sign-in attempts are
limited twice: per client IP (each `login` field of a mutation is one attempt), and per
account in the `login` resolver, keyed by the account's user id (the email and the
username share one budget), so that neither many accounts from one address nor one
account from many addresses can be guessed at speed.

Counting uses the `limits` library's fixed window on its Redis storage: the window
opens at a key's first hit and its counter expires with it, so every process sees the
same figures.

A process draws a budget from Redis a lease at a time: a round trip takes the request's
cost plus a few units more (at most 1/LEASE_SHARE of the budget, MAX_LEASE units), and
the next requests of that caller spend those units without asking Redis again, until
they run out or the window ends. Redis still counts every unit handed out, so processes
together never allow more than the budget; a lease left unspent when its window ends
is lost, so a caller spread over N processes may be refused up to N leases early. Sign-in
budgets (10 a minute) lease one unit: every attempt is counted in Redis. At the default
600 queries a minute a lease is 12 queries: one round trip in 12 instead of every one.
"""

import asyncio
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from prometheus_client import Counter
from redis.exceptions import RedisError

from graph.names import name_key
from resolvers.permissions import Principal
from server.errors import RateLimitedError
from server.settings import Settings

log = logging.getLogger("apollonia.ratelimit")

RATE_LIMITED = Counter(
    "apollonia_rate_limit_rejections_total", "Requests refused by a rate limit.", ["budget"]
)

QUERY = "query"
MUTATION = "mutation"
LOGIN = "login"  # sign-in attempts per client IP
ACCOUNT = "login_account"  # sign-in attempts per account

_TOO_MANY = {
    QUERY: "Too many queries",
    MUTATION: "Too many mutations",
    LOGIN: "Too many sign-in attempts",
    ACCOUNT: "Too many sign-in attempts for this account",
}


LEASE_SHARE = 50
MAX_LEASE = 100


def lease_size(amount: int) -> int:
    """How many units a process takes from Redis at a time for a budget of `amount`."""
    return max(1, min(MAX_LEASE, amount // LEASE_SHARE))


@dataclass
class _Lease:
    """Units of one key's window already counted in Redis and not spent yet."""

    units: int
    count: int  # the key's count in Redis after the last draw
    reset_at: float


@dataclass(frozen=True)
class Verdict:
    """One budget's answer to one request."""

    budget: str
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(math.ceil(self.reset_at)),
        }

    def error(self) -> RateLimitedError:
        seconds = self.retry_after
        return RateLimitedError(
            f"{_TOO_MANY[self.budget]}; try again in {seconds} s.", retry_after=seconds
        )


class RedisPyStorage(RedisStorage):
    """`limits`' async Redis storage, on redis-py only.

    The parent imports every client it could use (redis-py, coredis, valkey) when it is
    built, whichever one it then uses; coredis alone brought beartype, pympler and numpy
    into the API process, about 1,000 modules we never call. Defining no STORAGE_SCHEME
    keeps this class out of `limits`' scheme registry.
    """

    DEPENDENCIES = {"redis": RedisStorage.DEPENDENCIES["redis"]}  # noqa: RUF012 (as the parent)


def limits_uri(redis_url: str) -> str:
    """The `limits` storage URI for a Redis URL (unix://, redis://, rediss://)."""
    scheme, rest = redis_url.split("://", 1)
    if scheme == "unix":
        return f"async+redis+unix://{rest}"
    return f"async+{scheme}://{rest}"


def chosen_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation a request runs: the one named, else the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        named = (o for o in operations if o.name is not None and o.name.value == operation_name)
        return next(named, None)
    return operations[0] if len(operations) == 1 else None


# What one root mutation field costs in the mutation budget. Each of these hashes or
# verifies a password with argon2id (19 MiB, 2 passes: ~35 ms of CPU), about a hundred
# times an ordinary write; every other root field costs 1.
ARGON2_WEIGHT = 5
FIELD_WEIGHTS = {
    "register": ARGON2_WEIGHT,
    "login": ARGON2_WEIGHT,
    "changePassword": ARGON2_WEIGHT,
    "updateProfile": ARGON2_WEIGHT,
    "deleteAccount": ARGON2_WEIGHT,
}


def root_fields(
    document: DocumentNode, selection_set: SelectionSetNode, seen: set[str] | None = None
) -> list[str]:
    """The names of the root fields an operation executes, one per field as written
    (each alias counts), fragments expanded once."""
    seen = set() if seen is None else seen
    names: list[str] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.append(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names.extend(root_fields(document, selection.selection_set, seen))
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            for definition in document.definitions:
                if (
                    isinstance(definition, FragmentDefinitionNode)
                    and definition.name.value == selection.name.value
                ):
                    names.extend(root_fields(document, definition.selection_set, seen))
    return names


@dataclass(frozen=True)
class Charge:
    """What one request draws: `cost` from `budget`, and `logins` sign-in attempts."""

    budget: str
    cost: int = 1
    logins: int = 0


def charge_of(document: DocumentNode | None, operation_name: str | None) -> Charge:
    """The budget a request draws from, what it costs there, and its sign-in attempts.

    A query or subscription costs 1 query. A mutation costs the sum of its root fields'
    weights (FIELD_WEIGHTS, else 1), each aliased copy counted: 30 aliased `register`
    fields cost 150, not 1. A document that cannot be parsed, or whose operation cannot
    be chosen, is charged as a query: it fails before execution anyway.
    """
    if document is None:
        return Charge(QUERY)
    operation = chosen_operation(document, operation_name)
    if operation is None or operation.operation is not OperationType.MUTATION:
        return Charge(QUERY)
    names = root_fields(document, operation.selection_set)
    cost = sum(FIELD_WEIGHTS.get(name, 1) for name in names)
    return Charge(MUTATION, max(1, cost), names.count("login"))


class RateLimiter:
    """The budgets of the settings, counted in a `limits` Redis storage.

    Processes that share Redis and the storage's key prefix share the budgets. When Redis fails, the
    request is let through (and logged): rate limiting must not take the API down.
    """

    RESETS_KEPT = 10_000
    LEASES_KEPT = 10_000

    def __init__(self, storage: RedisStorage, query: str, mutation: str, login: str) -> None:
        self.storage = storage
        # When each key's current window ends, as learnt from Redis: a window's end
        # does not move, so one lookup per key and window saves a round trip a request.
        self._resets: dict[str, float] = {}
        self._leases: dict[str, _Lease] = {}
        # A key's draw from Redis under way: callers that find its lease empty meanwhile
        # wait for it instead of drawing too (32 clients at once made 32 round trips).
        self._draws: dict[str, asyncio.Future[None]] = {}
        self.items: dict[str, RateLimitItem] = {
            QUERY: parse(query),
            MUTATION: parse(mutation),
            LOGIN: parse(login),
            ACCOUNT: parse(login),
        }

    @classmethod
    def for_settings(
        cls, settings: Settings, prefix: str, connection_pool: Any = None
    ) -> "RateLimiter":
        """Counting in `settings.resolved_redis_url`, over `connection_pool` if given
        (the app's own, so that no second pool is opened)."""
        options: dict[str, Any] = {"implementation": "redispy", "key_prefix": prefix}
        if connection_pool is not None:
            options["connection_pool"] = connection_pool
        return cls(
            RedisPyStorage(limits_uri(settings.resolved_redis_url), **options),
            settings.rate_limit_query,
            settings.rate_limit_mutation,
            settings.rate_limit_login,
        )

    async def hit(self, budget: str, who: str, cost: int = 1) -> Verdict | None:
        """Charge `cost` to `who`'s `budget`; None when Redis cannot say."""
        item = self.items[budget]
        key = item.key_for(budget, who)
        verdict = self._from_lease(budget, key, cost)
        if verdict is not None:
            return verdict
        pending = self._draws.get(key)
        if pending is not None:
            await asyncio.shield(pending)
            verdict = self._from_lease(budget, key, cost)
            if verdict is not None:
                return verdict
        done = asyncio.get_running_loop().create_future()
        self._draws[key] = done
        try:
            return await self._draw(budget, key, cost)
        finally:
            if self._draws.get(key) is done:  # not a later draw's entry
                del self._draws[key]
            done.set_result(None)

    def _live_lease(self, key: str) -> _Lease | None:
        """`key`'s lease, unless its window has ended (and its units with it)."""
        lease = self._leases.get(key)
        return lease if lease is not None and lease.reset_at > time.time() else None

    def _from_lease(self, budget: str, key: str, cost: int) -> Verdict | None:
        """The verdict from `key`'s lease when it holds `cost` units (and spends them)."""
        lease = self._live_lease(key)
        if lease is None or lease.units < cost:
            return None
        lease.units -= cost
        item = self.items[budget]
        remaining = max(0, item.amount - lease.count) + lease.units
        return Verdict(budget, True, item.amount, remaining, lease.reset_at)

    async def _draw(self, budget: str, key: str, cost: int) -> Verdict | None:
        """Draw `cost` units and a lease for `key` from Redis."""
        item = self.items[budget]
        lease = self._live_lease(key)
        held = lease.units if lease is not None else 0
        draw = cost - held + lease_size(item.amount) - 1
        try:
            # FixedWindowRateLimiter.hit is this `incr`, but keeps the count to itself;
            # reading it here saves get_window_stats' extra round trip.
            count = await self.storage.incr(key, item.get_expiry(), amount=draw)
            reset_at = await self._reset_at(key, count == draw, item.get_expiry())
        except RedisError:
            log.warning("rate limit %s not checked: Redis failed", budget, exc_info=True)
            return None
        # The units of this draw that fall within the budget.
        granted = min(draw, max(0, item.amount - (count - draw)))
        units = held + granted
        # A charge of 0 looks at the budget (Subsonic, before a sign-in): is any left?
        allowed = units >= cost if cost else (units > 0 or count - draw <= item.amount)
        if allowed:
            units -= cost
        else:
            RATE_LIMITED.labels(budget).inc()
        if units > 0:
            if len(self._leases) >= self.LEASES_KEPT:
                self._leases.clear()  # unspent units are lost: callers are refused early
            self._leases[key] = _Lease(units, count, reset_at)
        else:
            self._leases.pop(key, None)
        return Verdict(budget, allowed, item.amount, max(0, item.amount - count) + units, reset_at)

    async def _reset_at(self, key: str, window_opened: bool, window: int) -> float:
        now = time.time()
        if window_opened:
            # This hit opened the window: Redis set its expiry to now + window.
            reset_at = now + window
        else:
            known = self._resets.get(key)
            if known is not None and known > now:
                return known
            reset_at = await self.storage.get_expiry(key)
        if len(self._resets) >= self.RESETS_KEPT:
            self._resets.clear()
        self._resets[key] = reset_at
        return reset_at

    async def admit(self, principal: Principal, client: str, charge: Charge) -> Verdict | None:
        """Charge one request: to the user's budget, or the client IP's when anonymous;
        its sign-in attempts also to the client IP's. Returns the tightest verdict."""
        caller = f"user:{principal.user_id}" if principal.user_id else f"ip:{client}"
        verdict = await self.hit(charge.budget, caller, cost=charge.cost)
        if charge.logins and (verdict is None or verdict.allowed):
            attempts = await self.hit(LOGIN, f"ip:{client}", cost=charge.logins)
            if attempts is not None and (
                verdict is None or not attempts.allowed or attempts.remaining < verdict.remaining
            ):
                verdict = attempts
        return verdict

    async def check_login(self, account: str) -> None:
        """One sign-in attempt for `account`: the user's id when the login names one
        (by email or username alike: one budget per account), else the folded login;
        raises RateLimitedError once the account's budget is spent."""
        # Hashed: a key of bounded size, and no email address stored in Redis.
        account = hashlib.sha256(name_key(account).encode()).hexdigest()[:32]
        verdict = await self.hit(ACCOUNT, account)
        if verdict is not None and not verdict.allowed:
            raise verdict.error()
