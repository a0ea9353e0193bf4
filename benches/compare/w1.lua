-- W1 as a Lua user would write it: 2,000,000 queued call messages (tables),
-- run from a queue, then report.
local total = 0
local function inc(i) total = total + i end
local function report() print(total) end

local calls = {}
for i = 0, 2000000 - 1 do
  calls[#calls + 1] = { action = inc, args = { i } }
end

local queue, head, tail = {}, 1, 0
local function enqueue(m) tail = tail + 1; queue[tail] = m end
for _, m in ipairs(calls) do enqueue(m) end
enqueue({ action = report, args = {} })
while head <= tail do
  local m = queue[head]
  queue[head] = nil
  head = head + 1
  m.action(table.unpack(m.args))
end
