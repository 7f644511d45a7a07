-- The authorization-code exchange end to end, as a signed-in browser and a confidential
-- client do it: GET /authorize (consent already given) -> 302 with a code ->
-- POST /token with the code, the PKCE verifier and Basic client authentication.
-- Each connection alternates; codes travel through a per-thread queue.

local authorize_path = os.getenv("AUTHORIZE_PATH")
local cookie = os.getenv("SESSION_COOKIE")
local basic = os.getenv("CLIENT_BASIC")
local token_body = os.getenv("TOKEN_BODY_PREFIX")
-- "yes": every token answer must carry an id_token (an openid request); "no": none may.
local expect_id_token = os.getenv("EXPECT_ID_TOKEN") == "yes"
local codes = {}
-- The shared checks (fail, setup, done), from this script's folder.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "checks.lua")

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
  elseif status == 200 and body:find("access_token", 1, true)
    and (body:find("\"id_token\"", 1, true) ~= nil) == expect_id_token then
    return
  end
  fail("response", status, body)
end
