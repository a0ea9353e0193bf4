-- W1 as a Lua user would write it: 2,000,000 call messages (tables) built
-- in a list, run in order (the conc), then report.
local unpack = table.unpack or unpack
local total = 0
local function inc(i) total = total + i end
local function report() print(total) end

local calls = {}
for i = 0, 2000000 - 1 do
  calls[#calls + 1] = { action = inc, args = { i } }
end
for _, m in ipairs(calls) do m.action(unpack(m.args)) end
report()
