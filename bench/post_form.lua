-- A fixed, client-authenticated form POST: PATH, BODY and CLIENT_BASIC from the environment.
-- Every answer must be 200 and, when EXPECT_BODY is set, hold that text (such as
-- '"active":true' for introspection).
local path = os.getenv("POST_PATH")
local body = os.getenv("POST_BODY")
local basic = os.getenv("CLIENT_BASIC")
local expect = os.getenv("EXPECT_BODY")
if expect == "" then
  expect = nil
end
-- The shared checks (fail, setup, done), from this script's folder.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "checks.lua")

request = function()
  return wrk.format("POST", path, {
    ["Authorization"] = "Basic " .. basic,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

response = function(status, headers, body)
  if status ~= 200 or (expect and not body:find(expect, 1, true)) then
    fail("response", status, body)
  end
end
