-- A distributed password-guessing storm against POST /login: every attempt comes from a
-- fresh client address (X-Forwarded-For, read by a server started with
-- TRUST_PROXY_HEADERS=true) and names a fresh username, so neither the per-IP slow-down nor
-- the per-username lockout holds it back and every attempt costs the server an argon2
-- verification. The sign-in form's CSRF token is the double-submit kind: one cookie and
-- token pair (CSRF_COOKIE "csrf=...", CSRF_TOKEN), fetched once, serves every attempt.
--
-- Refusals are what the storm expects; at the end it prints how often the server answered
-- each status ("storm_status 401 1234"), and "script_failures N" counts the answers that
-- mean the storm itself is wrong (a refused CSRF token, a malformed form, a sign-in that
-- worked).
local cookie = os.getenv("CSRF_COOKIE")
local csrf_token = os.getenv("CSRF_TOKEN")
statuses = ""  -- global: "401=12,429=3", read by report() through thread:get
local counts = {}
-- The shared checks (fail, setup, done), from this script's folder.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "checks.lua")

-- 2001:db8::/32 is the documentation prefix: addresses that belong to nobody. A random
-- third and fourth group give every attempt its own /64, the unit the limits count.
local function random_address()
  return string.format("2001:db8:%x:%x::%x", math.random(0, 0xffff), math.random(0, 0xffff),
    math.random(1, 0xffff))
end

local function random_word(length)
  local letters = {}
  for i = 1, length do
    letters[i] = string.char(math.random(97, 122))
  end
  return table.concat(letters)
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

request = function()
  local body = "csrf_token=" .. csrf_token .. "&username=storm-" .. random_word(12) ..
    "&password=" .. random_word(16)
  return wrk.format("POST", "/login", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
    ["X-Forwarded-For"] = random_address(),
  }, body)
end

-- What a refused storm may see: the sign-in page with its error (401), a limit (429,
-- carrying Retry-After) or an overloaded server (503).
local expected = { [401] = true, [429] = true, [503] = true }

response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  local parts = {}
  for code, count in pairs(counts) do
    table.insert(parts, code .. "=" .. count)
  end
  statuses = table.concat(parts, ",")
  if not expected[status] then
    fail("storm response", status, body)
  end
end

-- Called by done() before "script_failures N".
function report(threads)
  local sums = {}
  for _, thread in ipairs(threads) do
    for code, count in string.gmatch(thread:get("statuses") or "", "(%d+)=(%d+)") do
      sums[code] = (sums[code] or 0) + tonumber(count)
    end
  end
  for code, count in pairs(sums) do
    io.write("storm_status " .. code .. " " .. count .. "\n")
  end
end
