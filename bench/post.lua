-- wrk script: send $BENCH_METHOD (POST by default) with the body $BENCH_BODY of type $BENCH_TYPE
-- and the cookie $BENCH_COOKIE, so a load tool can speak for a person part-way through the check.
wrk.method = os.getenv("BENCH_METHOD") or "POST"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = os.getenv("BENCH_TYPE")
end
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
