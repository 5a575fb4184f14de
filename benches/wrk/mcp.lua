-- wrk script: stateless MCP POSTs with a unique JSON-RPC id per request.
--   MCP_METHOD   = "call" (tools/call greet_user {"name":"World"}) or "list" (tools/list)
--   MCP_TOKEN    = bearer token
--   MCP_TOOL     = tool name for "call" (default greet_user)
--   MCP_REVISION = "2025-11-25" (default) or "2026-07-28": the per-request `_meta` a 2026-07-28
--                  client sends and its SEP-2243 `Mcp-Method` / `Mcp-Name` headers
--   MCP_EXPECT   = optional: a string every response body must contain (JSON or SSE alike);
--                  bodies without it, or with `"isError":true`, are counted as "unexpected".
--                  Off by default: reading each body costs wrk CPU the servers share.
-- Prints one JSON line (prefixed "WRK_JSON ") with the counts and latency percentiles (µs).

local method = os.getenv("MCP_METHOD") or "call"
local token = os.getenv("MCP_TOKEN") or ""
local tool = os.getenv("MCP_TOOL") or "greet_user"
local revision = os.getenv("MCP_REVISION") or "2025-11-25"
local modern = revision ~= "2025-11-25"
local expect = os.getenv("MCP_EXPECT")
if expect == "" then expect = nil end

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

local headers = {
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json, text/event-stream",
  ["MCP-Protocol-Version"] = revision,
  ["Authorization"] = "Bearer " .. token,
}
if modern then
  headers["Mcp-Method"] = method == "list" and "tools/list" or "tools/call"
  if method ~= "list" then
    headers["Mcp-Name"] = tool
  end
end

-- What a 2026-07-28 client puts in every request's `_meta`.
local meta = '"_meta":{"io.modelcontextprotocol/protocolVersion":"' .. revision .. '",' ..
  '"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"},' ..
  '"io.modelcontextprotocol/clientCapabilities":{}}'

local counter = 0
local prefix, suffix

function init(args)
  -- ids are tid * 10^9 + n: unique across threads and requests
  counter = tid * 1000000000
  prefix = '{"jsonrpc":"2.0","id":'
  if method == "list" and modern then
    suffix = ',"method":"tools/list","params":{' .. meta .. '}}'
  elseif method == "list" then
    suffix = ',"method":"tools/list"}'
  elseif modern then
    suffix = ',"method":"tools/call","params":{"name":"' .. tool .. '","arguments":{"name":"World"},' .. meta .. '}}'
  else
    suffix = ',"method":"tools/call","params":{"name":"' .. tool .. '","arguments":{"name":"World"}}}'
  end
end

-- per thread: responses checked against MCP_EXPECT, and those that failed the check
checked = 0
unexpected = 0

if expect then
  function response(status, headers, body)
    checked = checked + 1
    if not body or not body:find(expect, 1, true) or body:find('"isError":true', 1, true) then
      unexpected = unexpected + 1
    end
  end
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, headers, prefix .. counter .. suffix)
end

function done(summary, latency, requests)
  local e = summary.errors
  local checked_all, unexpected_all = 0, 0
  for _, thread in ipairs(threads) do
    checked_all = checked_all + thread:get("checked")
    unexpected_all = unexpected_all + thread:get("unexpected")
  end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"checked":%d,"unexpected":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, checked_all, unexpected_all))
end
