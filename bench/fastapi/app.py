"""The benchmark endpoints on FastAPI, written as a FastAPI user would write them.

The same endpoints, JSON shapes and validation as `examples/bench_server`: pydantic models
for the bodies, `def` for the handler and the dependency that run on the thread pool, and the
`/mw` routes in a mounted sub-application with the middleware an API usually has.
"""

import time
import uuid
from typing import Annotated

from fastapi import Depends, FastAPI, Path
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

app = FastAPI()


class Message(BaseModel):
    message: str


class User(BaseModel):
    id: int
    verbose: bool


class Echo(BaseModel):
    name: str
    count: int
    tags: list[str]


class EchoValid(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    count: int = Field(ge=0, le=1000)
    tags: list[Annotated[str, Field(min_length=1)]] = Field(max_length=16)


class Done(BaseModel):
    ok: bool


class Context(BaseModel):
    tenant: int
    session: str
    quota: int


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json() -> Message:
    return Message(message="Hello, World!")


@app.get("/users/{id}")
async def user(id: Annotated[int, Path(ge=0)], verbose: bool = False) -> User:
    # `ge=0`: the id is a u64 in the Rust servers.
    return User(id=id, verbose=verbose)


@app.post("/echo")
async def echo(body: Echo) -> Echo:
    return body


@app.get("/blocking")
def blocking() -> Done:
    # A plain `def`: FastAPI runs it on the thread pool.
    time.sleep(0.001)
    return Done(ok=True)


@app.post("/echo-valid")
async def echo_valid(body: EchoValid) -> EchoValid:
    return body


class Account:
    def __init__(self, id: int) -> None:
        self.id = id


def account() -> Account:
    return Account(7)


def limits(account: Annotated[Account, Depends(account)]) -> int:
    return account.id * 100


@app.get("/blocking-deps")
def blocking_deps(limits: Annotated[int, Depends(limits)]) -> Done:
    # A plain `def` with two plain `def` dependencies, each run on the thread pool.
    time.sleep(0.001)
    return Done(ok=limits == 700)


class Tenant:
    def __init__(self, id: int) -> None:
        self.id = id


async def tenant() -> Tenant:
    return Tenant(7)


async def session(tenant: Annotated[Tenant, Depends(tenant)]) -> str:
    return f"s-{tenant.id}"


def quota(tenant: Annotated[Tenant, Depends(tenant)]) -> int:
    # A plain `def` dependency: run on the thread pool, as Portico runs a plain `fn` one.
    return tenant.id * 100


async def quota_async(tenant: Annotated[Tenant, Depends(tenant)]) -> int:
    return tenant.id * 100


@app.get("/deps")
async def deps(
    tenant: Annotated[Tenant, Depends(tenant)],
    session: Annotated[str, Depends(session)],
    quota: Annotated[int, Depends(quota)],
) -> Context:
    return Context(tenant=tenant.id, session=session, quota=quota)


@app.get("/deps-async")
async def deps_async(
    tenant: Annotated[Tenant, Depends(tenant)],
    session: Annotated[str, Depends(session)],
    quota: Annotated[int, Depends(quota_async)],
) -> Context:
    return Context(tenant=tenant.id, session=session, quota=quota)


class SetRequestId:
    """Gives every response an `X-Request-ID`: the request's own when it sends one, else a
    fresh UUID (a pure ASGI middleware, the cheapest kind Starlette has)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id" and 0 < len(value) <= 128:
                request_id = value
                break
        if request_id is None:
            request_id = str(uuid.uuid4()).encode()

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id)]
            await send(message)

        await self.app(scope, receive, send_with_id)


# `/mw/json`: `/json` again behind CORS, compression and a request id, in a sub-application so
# that the other routes do not pass through them (as Portico's router-level middleware).
mw = FastAPI()
mw.get("/json")(json)
mw.add_middleware(CORSMiddleware, allow_origins=["http://bench.example"])
mw.add_middleware(GZipMiddleware, minimum_size=500)
mw.add_middleware(SetRequestId)
app.mount("/mw", mw)
