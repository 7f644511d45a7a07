-- What every benchmark script shares (loaded with dofile from the script's own folder):
-- each wrk thread counts the answers its script found wrong in the global `failures`
-- through fail(), which shows the first few; done() sums them over the threads and prints
-- "script_failures N" for lib.sh's load(). A script may define report(threads) to print
-- more of its own at the end.
failures = 0  -- global: read by done() through thread:get

function fail(what, status, body)
  failures = failures + 1
  if failures <= 3 then
    io.stderr:write("unexpected " .. what .. " " .. status .. ": " .. body:sub(1, 200) .. "\n")
  end
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("failures") or 0)
  end
  if report then
    report(threads)
  end
  io.write("script_failures " .. total .. "\n")
end
