-- The refresh-token grant under load without tripping reuse detection: every refresh
-- token is used exactly once. REFRESH_TOKENS holds two tokens per connection (comma-
-- separated); each response's new refresh token goes back into the queue.
local basic = os.getenv("CLIENT_BASIC")
local tokens = {}
for token in string.gmatch(os.getenv("REFRESH_TOKENS"), "[^,]+") do
  table.insert(tokens, token)
end
failures = 0  -- global: read by done() through thread:get

request = function()
  local token = table.remove(tokens, 1)
  if not token then
    -- Only after a failure lost a chain: keep the connection busy harmlessly.
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("POST", "/token", {
    ["Authorization"] = "Basic " .. basic,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "grant_type=refresh_token&refresh_token=" .. token)
end

response = function(status, headers, body)
  local next_token = body:match('"refresh_token":"([^"]+)"')
  if status == 200 and next_token then
    table.insert(tokens, next_token)
    return
  end
  failures = failures + 1
  if failures <= 3 then
    io.stderr:write("unexpected response " .. status .. ": " .. body:sub(1, 200) .. "\n")
  end
end

-- Every thread's failures, summed and printed for lib.sh to report.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("failures") or 0)
  end
  io.write("script_failures " .. total .. "\n")
end
