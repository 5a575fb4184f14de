-- wrk script: MCP 2025-11-25-style POSTs with a unique JSON-RPC id per request.
--   MCP_METHOD = "call" (tools/call greet_user {"name":"World"}) or "list" (tools/list)
--   MCP_TOKEN  = bearer token
--   MCP_TOOL   = tool name for "call" (default greet_user)
-- Prints one JSON line (prefixed "WRK_JSON ") with the counts and latency percentiles (µs).

local method = os.getenv("MCP_METHOD") or "call"
local token = os.getenv("MCP_TOKEN") or ""
local tool = os.getenv("MCP_TOOL") or "greet_user"

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
  ["MCP-Protocol-Version"] = "2025-11-25",
  ["Authorization"] = "Bearer " .. token,
}

local counter = 0
local prefix, suffix

function init(args)
  -- ids are tid * 10^9 + n: unique across threads and requests
  counter = tid * 1000000000
  if method == "list" then
    prefix = '{"jsonrpc":"2.0","id":'
    suffix = ',"method":"tools/list"}'
  else
    prefix = '{"jsonrpc":"2.0","id":'
    suffix = ',"method":"tools/call","params":{"name":"' .. tool .. '","arguments":{"name":"World"}}}'
  end
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, headers, prefix .. counter .. suffix)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
