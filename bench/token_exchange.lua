-- The authorization-code exchange end to end, as a signed-in browser and a confidential
-- client do it: GET /authorize (consent already given) -> 302 with a code ->
-- POST /token with the code, the PKCE verifier and Basic client authentication.
-- Each connection alternates; codes travel through a per-thread queue.

local authorize_path = os.getenv("AUTHORIZE_PATH")
local cookie = os.getenv("SESSION_COOKIE")
local basic = os.getenv("CLIENT_BASIC")
local token_body = os.getenv("TOKEN_BODY_PREFIX")
local codes = {}
failures = 0  -- global: read by done() through thread:get

request = function()
  local code = table.remove(codes)
  if code then
    return wrk.format("POST", "/token", {
      ["Authorization"] = "Basic " .. basic,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, token_body .. "&code=" .. code)
  end
  return wrk.format("GET", authorize_path, { ["Cookie"] = cookie })
end

response = function(status, headers, body)
  if status == 302 then
    local location = headers["Location"] or headers["location"] or ""
    local code = location:match("[?&]code=([^&]+)")
    if code then
      table.insert(codes, code)
      return
    end
  elseif status == 200 and body:find("access_token", 1, true) then
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
