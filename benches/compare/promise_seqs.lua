-- A conc of 1,000 promise-wrapped seqs of 100 calls each, hand-written in
local unpack = table.unpack or unpack
-- Lua: round-robin over the promises, each stepping the head of its seq.
local B = tonumber(arg[1]) or 1000
local S = tonumber(arg[2]) or 100
local n = 0
local function step(j) n = n + 1 end
local function done(values) n = n + 1 end

local queue, head, tail = {}, 1, 0
for b = 1, B do
  local seq, first = {}, 1
  for j = 1, S do seq[j] = { op = "call", action = step, args = { j } } end
  tail = tail + 1
  queue[tail] = { op = "promise", items = { { op = "seq", items = seq, first = 1 } }, collected = {}, cb = done }
end

local start = os.clock()
while head <= tail do
  local item = queue[head]
  queue[head] = nil
  head = head + 1
  if item.op == "promise" then
    local inner = item.items[1]
    if inner == nil then
      done(item.collected)
    else
      local m = inner.items[inner.first]
      inner.items[inner.first] = nil
      inner.first = inner.first + 1
      local result = m.action(unpack(m.args))
      if result ~= nil then item.collected[#item.collected + 1] = result end
      if inner.items[inner.first] == nil then item.items[1] = nil end
      tail = tail + 1
      queue[tail] = item
    end
  end
end
local elapsed = os.clock() - start
print(string.format("promise_seqs lua: %d steps in %.3f s = %.2f M/s", B * S, elapsed, B * S / elapsed / 1e6))
