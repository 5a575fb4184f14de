#!/usr/bin/env python3
"""The official MCP Python SDK (`mcp`, installed in tests/interop/.venv) against an MCP endpoint:
this server's, serving Backstage's catalog actions as remote tools, in tests/backstage.rs.

Usage: py-client.py <endpoint URL> <token> <calls JSON>
  <calls JSON>: [{"name": "<tool>", "arguments": {...}}, ...]
Prints one JSON document on stdout: {"tools": [<tool names>], "calls": [{"isError",
"structuredContent", "text"} for each call]}. Exit code 0 when every request was answered.
"""

from __future__ import annotations

import asyncio
import json
import sys

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def text_of(result) -> str:
    for block in result.content or []:
        if getattr(block, "type", None) == "text":
            return block.text
    return ""


async def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    url, token, calls = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with asyncio.timeout(60):
        async with Client(streamable_http_client(url, http_client=http), mode="auto",
                          raise_exceptions=True) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            results = []
            for call in calls:
                result = await client.call_tool(call["name"], call.get("arguments", {}))
                results.append({"isError": bool(result.is_error),
                                "structuredContent": result.structured_content,
                                "text": text_of(result)})
    print(json.dumps({"tools": tools, "calls": results}, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
