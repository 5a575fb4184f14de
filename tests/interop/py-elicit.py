"""The official MCP Python SDK (`mcp`) as the user who confirms (or not) the catalog example's
delete action, which says `confirm = "Delete {entity_ref} from the catalog?"`.

Usage: .venv/bin/python py-elicit.py --url http://127.0.0.1:PORT/api/mcp-actions/v1 --token TOKEN

On 2026-07-28 (`mode="auto"`) the server answers the call with an input-required result; the SDK
asks its elicitation callback and calls again with the answer. Checks:
  auto:decline, auto:cancel   the callback is asked "Delete … from the catalog?"; the call ends
                              "NotAllowedError: declined by the user" and the entity still exists
  auto:accept                 the entity is deleted (get -> NotFoundError)
  auto:no-capability          without a callback (no elicitation capability): a NotAllowedError
                              saying the client cannot ask the user
  legacy:decline              on 2025-11-25 (`initialize`) over Streamable HTTP: the server asks
                              with `elicitation/create` on the call's SSE stream (its sealed
                              Mcp-Session-Id says the client can be asked); declined, the entity
                              stays
  legacy:accept               the same, accepted: the entity is deleted
  legacy:no-capability        on 2025-11-25 without a callback: refused, as on 2026-07-28
Prints one JSON summary on stdout; exit code 0 iff every check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

checks: list[dict[str, Any]] = []
REFUSED = "NotAllowedError: this action needs the user's confirmation, and this client cannot ask the user"


def record(name: str, ok: bool, detail: Any = None) -> None:
    checks.append({"name": name, "ok": ok, "detail": detail})
    print(f"{'PASS' if ok else 'FAIL'} {name}: {json.dumps(detail, default=str)}", file=sys.stderr)


def text_of(result: Any) -> str:
    for block in result.content or []:
        if getattr(block, "type", None) == "text":
            return block.text
    return ""


def user(action: str | None, asked: list[str]):
    if action is None:
        return None

    async def answer(context: Any, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        if action == "accept":
            return types.ElicitResult(action="accept", content={})
        return types.ElicitResult(action=action)

    return answer


def client(url: str, token: str, mode: str, action: str | None, asked: list[str]) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(
        streamable_http_client(url, http_client=http),
        mode=mode,
        raise_exceptions=True,
        elicitation_callback=user(action, asked),
    )


async def delete(url: str, token: str, mode: str, action: str | None, ref: str) -> tuple[Any, list[str], Any]:
    asked: list[str] = []
    async with client(url, token, mode, action, asked) as c:
        result = await c.call_tool("delete_catalog_entity", {"entity_ref": ref})
        after = await c.call_tool("get_catalog_entity", {"entity_ref": ref})
    return result, asked, after


async def run(name: str, check) -> None:
    try:
        async with asyncio.timeout(30):
            ok, detail = await check()
        record(name, ok, detail)
    except BaseException as error:  # noqa: BLE001 - every failure is a failed check
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        record(name, False, f"{type(error).__name__}: {error}")


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    url, token = args.url, args.token

    for action in ("decline", "cancel"):
        ref = "component:default/website"

        async def declined(action: str = action, ref: str = ref):
            result, asked, after = await delete(url, token, "auto", action, ref)
            ok = (
                bool(result.is_error)
                and text_of(result) == "NotAllowedError: declined by the user"
                and asked == [f"Delete {ref} from the catalog?"]
                and not after.is_error
            )
            return ok, {"text": text_of(result), "asked": asked, "stillThere": not after.is_error}

        await run(f"auto:{action}", declined)

    async def accepted(mode, ref, asked_as_expected):
        """The user accepts: the entity is deleted (and gone afterwards)."""
        result, asked, after = await delete(url, token, mode, "accept", ref)
        structured = result.structured_content or {}
        ok = (
            not result.is_error
            and structured.get("deleted", {}).get("ref") == ref
            and asked_as_expected(asked)
            and bool(after.is_error)
            and text_of(after).startswith("NotFoundError:")
        )
        return ok, {"structuredContent": structured, "asked": asked, "after": text_of(after)}

    async def no_capability(mode):
        """A client without the capability: refused, as configured."""
        result, _, _ = await delete(url, token, mode, None, "api:default/orders")
        return bool(result.is_error) and text_of(result).startswith(REFUSED), {"text": text_of(result)}

    await run("auto:accept", lambda: accepted("auto", "component:default/website", lambda a: len(a) == 1))
    await run("auto:no-capability", lambda: no_capability("auto"))

    async def legacy_declined():
        ref = "component:default/payments-api"
        result, asked, after = await delete(url, token, "legacy", "decline", ref)
        ok = (
            bool(result.is_error)
            and text_of(result) == "NotAllowedError: declined by the user"
            and asked == [f"Delete {ref} from the catalog?"]
            and not after.is_error
        )
        return ok, {"text": text_of(result), "asked": asked, "stillThere": not after.is_error}

    await run("legacy:decline", legacy_declined)

    payments = "component:default/payments-api"
    await run("legacy:accept", lambda: accepted(
        "legacy", payments, lambda a: a == [f"Delete {payments} from the catalog?"]))
    await run("legacy:no-capability", lambda: no_capability("legacy"))

    ok = bool(checks) and all(c["ok"] for c in checks)
    print(json.dumps({"client": "mcp (Python SDK) elicitation", "ok": ok, "checks": checks}, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
