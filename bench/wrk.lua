-- wrk script: each request as a person's browser sends it through the clinic's reverse proxy.
--   BENCH_METHOD (GET), BENCH_BODY and BENCH_TYPE, BENCH_COOKIE, BENCH_REFERER;
--   X-Forwarded-Proto: https, and X-Forwarded-For: a client address that changes every
--   BENCH_PER_VISITOR requests (8), unique per thread and per BENCH_RUN ("run:prefix", hex),
--   so no address reaches a rate limit (the tightest, contact requests, allows 10 an hour).
-- The request text is built once per visitor, not per request, to keep wrk's own cost low.
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
if body == "" then body = nil end
local per_visitor = tonumber(os.getenv("BENCH_PER_VISITOR") or "8")
local run = os.getenv("BENCH_RUN") or "0:0"
local headers = {["X-Forwarded-Proto"] = "https"}
if body then headers["Content-Type"] = os.getenv("BENCH_TYPE") end
local cookie = os.getenv("BENCH_COOKIE") or ""
if cookie ~= "" then headers["Cookie"] = cookie end
local referer = os.getenv("BENCH_REFERER") or ""
if referer ~= "" then headers["Referer"] = referer end

local threads = 0
function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

local sent = 0
local text
function request()
  if sent % per_visitor == 0 then
    local visitor = math.floor(sent / per_visitor)
    headers["X-Forwarded-For"] = string.format("2001:db8:%s:%x::%x:%x", run, thread_number,
                                               math.floor(visitor / 65536), visitor % 65536)
    text = wrk.format(method, nil, headers, body)
  end
  sent = sent + 1
  return text
end
