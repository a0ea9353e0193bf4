-- The flat-calls workload hand-written in Lua: 2,000,000 queued call
local unpack = table.unpack or unpack
-- messages {op, action, args} in a ring-buffer queue, each run by a
-- dispatch loop that handles the result as Voyager does (nil: nothing).
-- Prints the run time (setup excluded) and memory per queued message.
local N = tonumber(arg[1]) or 2000000
local n = 0
local function work(i) n = n + 1 end

collectgarbage("collect")
local before = collectgarbage("count")
local queue, head, tail = {}, 1, 0
for i = 1, N do
  tail = tail + 1
  queue[tail] = { op = "call", action = work, args = { i } }
end
collectgarbage("collect")
local after = collectgarbage("count")

local start = os.clock()
while head <= tail do
  local m = queue[head]
  queue[head] = nil
  head = head + 1
  if m.op == "call" then
    local result = m.action(unpack(m.args))
    if result ~= nil then
      tail = tail + 1
      queue[tail] = { op = "data", value = result }
    end
  end
end
local elapsed = os.clock() - start
assert(n == N)
print(string.format("flat_calls lua: %d calls in %.3f s = %.2f M/s; %.1f bytes per queued message",
  N, elapsed, N / elapsed / 1e6, (after - before) * 1024 / N))
