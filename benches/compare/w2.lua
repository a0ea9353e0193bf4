-- W2 as a Lua user would write it: 1,000 branches, each a sequence of 100
-- queued calls whose results are collected and then summed by a callback;
-- the branches run round-robin, then report.
local unpack = table.unpack or unpack
local total = 0
local function step(b, k) return b * 100 + k end
local function reduce(xs, init, f)
  local acc = init
  for _, x in ipairs(xs) do acc = f(acc, x) end
  return acc
end
local function sum_branch(vals)
  total = total + reduce(vals, 0, function(a, x) return a + x end)
end
local function report() print(total) end

local branches = {}
for b = 0, 1000 - 1 do
  local steps = {}
  for k = 0, 100 - 1 do steps[#steps + 1] = { action = step, args = { b, k } } end
  branches[#branches + 1] = { steps = steps, next = 1, collected = {}, callback = sum_branch }
end

-- Round-robin: one step of each unfinished branch per turn.
local queue, head, tail = {}, 1, 0
for _, br in ipairs(branches) do tail = tail + 1; queue[tail] = br end
while head <= tail do
  local br = queue[head]
  queue[head] = nil
  head = head + 1
  local m = br.steps[br.next]
  br.next = br.next + 1
  local v = m.action(unpack(m.args))
  if v ~= nil then br.collected[#br.collected + 1] = v end
  if br.next <= #br.steps then
    tail = tail + 1; queue[tail] = br
  else
    br.callback(br.collected)
  end
end
report()
