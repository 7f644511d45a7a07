-- The refresh-token grant under load without tripping reuse detection: every refresh
-- token is used exactly once. REFRESH_TOKENS holds two tokens per connection (comma-
-- separated); each response's new refresh token goes back into the queue.
local basic = os.getenv("CLIENT_BASIC")
local tokens = {}
for token in string.gmatch(os.getenv("REFRESH_TOKENS"), "[^,]+") do
  table.insert(tokens, token)
end
-- The shared checks (fail, setup, done), from this script's folder.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "checks.lua")

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
  fail("response", status, body)
end
