-- One wrk script for every scenario. wrk runs one connection per thread here (-t C -c C),
-- so each thread is one customer. Arguments (after --): scenario, data file.
-- The data file (written by bench/run.py) returns {tokens = {...}, products = {{a, b, c}, ...},
-- detail_ids = {...}, logins = {...}}: customer i uses tokens[i], logins[i] and its own three
-- products.

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local scenario, token, mine, detail_ids, login, step
-- A global, so done() can read it from every thread.
fivexx = 0

function init(args)
  scenario = args[1]
  local data = dofile(args[2])
  local id = wrk.thread:get("id")
  token = data.tokens[(id - 1) % #data.tokens + 1]
  mine = data.products[(id - 1) % #data.products + 1]
  detail_ids = data.detail_ids
  login = data.logins[(id - 1) % #data.logins + 1]
  step = 0
  fivexx = 0
  math.randomseed(id)
end

local function json_post(path, body)
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

local function get(path, authorized)
  local headers = {}
  if authorized then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", path, headers)
end

function request()
  if scenario == "list" then
    return get("/api/products?per_page=20")
  elseif scenario == "detail" then
    return get("/api/products/" .. detail_ids[math.random(#detail_ids)])
  elseif scenario == "filtered" then
    return get("/api/products?category=coffee&in_stock=true&sort=-price&per_page=20")
  elseif scenario == "cart" then
    return get("/api/cart", true)
  elseif scenario == "add" then
    return json_post("/api/cart", '{"product_id": ' .. mine[1] .. ', "quantity": 1}')
  elseif scenario == "login" then
    return wrk.format("POST", "/api/auth/login", {["Content-Type"] = "application/json"},
      '{"username": "' .. login .. '", "password": "bench-password-1"}')
  elseif scenario == "checkout" then
    -- A 3-line cart, then the order: four requests per checkout.
    step = step % 4 + 1
    if step <= 3 then
      return json_post("/api/cart", '{"product_id": ' .. mine[step] .. ', "quantity": 1}')
    end
    return json_post("/api/orders", "")
  elseif scenario == "history" then
    return get("/api/orders/history", true)
  end
end

function response(status, headers, body)
  if status >= 500 then fivexx = fivexx + 1 end
end

function done(summary, latency, requests)
  local total_5xx = 0
  for _, thread in ipairs(threads) do total_5xx = total_5xx + (thread:get("fivexx") or 0) end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "non_2xx": %d, "server_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, total_5xx))
end
