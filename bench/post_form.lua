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
failures = 0  -- global: read by done() through thread:get

request = function()
  return wrk.format("POST", path, {
    ["Authorization"] = "Basic " .. basic,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

response = function(status, headers, body)
  if status ~= 200 or (expect and not body:find(expect, 1, true)) then
    failures = failures + 1
    if failures <= 3 then
      io.stderr:write("unexpected response " .. status .. ": " .. body:sub(1, 200) .. "\n")
    end
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
