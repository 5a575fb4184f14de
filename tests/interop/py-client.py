#!/usr/bin/env python3
"""Interop check of an mcp-actions server with the official MCP Python SDK (`mcp`, pinned in
requirements.txt), on both lifecycles: `mode="auto"` (server/discover, the stateless 2026-07-28
wire) and `mode="legacy"` (the 2025-11-25 initialize handshake).

Usage: .venv/bin/python py-client.py --url http://127.0.0.1:PORT/api/mcp-actions/v1 --token TOKEN

Per mode it checks: connect (with `Authorization: Bearer TOKEN`), the protocol version, the tools
capability, tools/list, greet_user {"name": "World"} -> structuredContent.greeting == "Hello World!"
(the SDK validates structuredContent against the outputSchema), bad arguments -> isError with text
starting "InputError:". Then that a wrong token is refused. Prints one JSON summary on stdout;
exit code 0 iff every check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from importlib.metadata import version
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

checks: list[dict[str, Any]] = []


def record(name: str, ok: bool, detail: Any = None) -> None:
    entry: dict[str, Any] = {"name": name, "ok": ok}
    if detail is not None:
        entry["detail"] = detail
    checks.append(entry)
    text = detail if isinstance(detail, str) or detail is None else json.dumps(detail, default=str)
    print(f"{'PASS' if ok else 'FAIL'} {name}{'' if text is None else f': {text}'}", file=sys.stderr)


def describe(error: BaseException) -> str:
    # anyio task groups wrap errors in ExceptionGroups: show the leaves.
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(e) for e in error.exceptions)
    return f"{type(error).__name__}: {error}"


def client(url: str, token: str, mode: str, statuses: list[int] | None = None) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    if statuses is not None:
        # The SDK reports a 401 as a generic JSON-RPC error: watch the HTTP statuses directly.
        async def on_response(response: httpx2.Response) -> None:
            statuses.append(response.status_code)

        http.event_hooks = {**http.event_hooks, "response": [*http.event_hooks.get("response", []), on_response]}
    return Client(streamable_http_client(url, http_client=http), mode=mode, raise_exceptions=True)


def text_of(result: Any) -> str:
    for block in result.content or []:
        if getattr(block, "type", None) == "text":
            return block.text
    return ""


async def check_mode(url: str, token: str, mode: str, expected_version: str | None, timeout: float) -> None:
    prefix = f"{mode}:"
    try:
        async with asyncio.timeout(timeout):
            async with client(url, token, mode) as c:
                record(f"{prefix}connect", True, {"protocolVersion": c.protocol_version,
                                                  "serverInfo": c.server_info.model_dump() if c.server_info else None})
                if expected_version is not None:
                    record(f"{prefix}protocol-version", c.protocol_version == expected_version,
                           f"negotiated {c.protocol_version}, expected {expected_version}")
                record(f"{prefix}capabilities", c.server_capabilities.tools is not None,
                       c.server_capabilities.model_dump(exclude_none=True))

                tools = (await c.list_tools()).tools
                names = [t.name for t in tools]
                record(f"{prefix}list-tools", "greet_user" in names, names)

                result = await c.call_tool("greet_user", {"name": "World"})
                structured = result.structured_content
                ok = not result.is_error and isinstance(structured, dict) and structured.get("greeting") == "Hello World!"
                record(f"{prefix}greet-ok", ok, {"isError": result.is_error, "structuredContent": structured})

                bad = await c.call_tool("greet_user", {"name": 42})
                text = text_of(bad)
                record(f"{prefix}greet-bad-args", bool(bad.is_error) and text.startswith("InputError:"),
                       {"isError": bad.is_error, "text": text})
    except BaseException as error:  # noqa: BLE001 - every failure is a failed check
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        record(f"{prefix}unexpected-error", False, describe(error))


async def check_refused(url: str, token: str, timeout: float) -> None:
    for mode in ("auto", "legacy"):
        name = f"{mode}:wrong-token"
        statuses: list[int] = []
        try:
            async with asyncio.timeout(timeout):
                async with client(url, f"{token}-wrong", mode, statuses) as c:
                    await c.list_tools()
            record(name, False, {"error": "connected and listed tools with a wrong token", "httpStatuses": statuses})
        except BaseException as error:  # noqa: BLE001
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            ok = bool(statuses) and all(s == 401 for s in statuses)
            record(name, ok, {"error": describe(error)[:300], "httpStatuses": statuses})


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per connection")
    args = parser.parse_args()

    await check_mode(args.url, args.token, "auto", "2026-07-28", args.timeout)
    await check_mode(args.url, args.token, "legacy", "2025-11-25", args.timeout)
    await check_refused(args.url, args.token, args.timeout)

    ok = bool(checks) and all(c["ok"] for c in checks)
    summary = {
        "client": "mcp (Python SDK)",
        "sdkVersion": version("mcp"),
        "url": args.url,
        "ok": ok,
        "passed": sum(c["ok"] for c in checks),
        "failed": sum(not c["ok"] for c in checks),
        "checks": checks,
    }
    print(json.dumps(summary, default=str), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
