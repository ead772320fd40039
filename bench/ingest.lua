-- wrk script for bench/ingest: POSTs pre-signed Twilio webhooks.
--
--   wrk ... -s bench/ingest.lua URL -- FILE START LIMIT THREADS
--
-- FILE has one webhook per line, "X-Twilio-Signature<TAB>form body", written
-- by bench/ingest.  Thread t (0-based) of THREADS sends the entries
-- START+t, START+t+THREADS, ... (at most LIMIT entries from START in all; 0 =
-- to the end of the file), so no two threads and no two runs that start
-- where the previous one stopped ever send the same MessageSid.  Requests are
-- formatted once in init(), so wrk spends nothing per request on Lua.
-- The same requests go to the static floor, so both pay the same parsing.
--
-- done() prints one line "WRK_RESULT {json}" that bench/ingest parses:
-- latencies in microseconds; "sent" = requests each thread generated (the
-- next run starts at START + THREADS * max(sent)); "wraps" > 0 means a
-- thread ran out of entries and repeated MessageSids (duplicates).

local threads = {}
local nsetup = 0

function setup(thread)
   thread:set("tid", nsetup)
   nsetup = nsetup + 1
   table.insert(threads, thread)
end

function init(args)
   local file = args[1]
   local start = tonumber(args[2]) or 0
   local limit = tonumber(args[3]) or 0
   local nthreads = tonumber(args[4]) or 1
   local stop = limit > 0 and start + limit or math.huge
   reqs, idx, sent, wraps = {}, 0, 0, 0
   local i = 0
   for line in io.lines(file) do
      if i >= stop then break end
      if i >= start and (i - start) % nthreads == tid then
         local sig, body = line:match("^([^\t]+)\t(.*)$")
         reqs[#reqs + 1] = wrk.format("POST", nil, {
            ["Host"] = wrk.headers["Host"],
            ["Content-Type"] = "application/x-www-form-urlencoded",
            ["User-Agent"] = "TwilioProxy/1.1",
            ["Accept"] = "*/*",
            ["X-Twilio-Signature"] = sig,
         }, body)
      end
      i = i + 1
   end
   loaded = #reqs
   if loaded == 0 then
      error("bench/ingest.lua: no entries for thread " .. tid .. " in " .. file)
   end
end

function request()
   idx = idx + 1
   if idx > loaded then
      idx, wraps = 1, wraps + 1
   end
   sent = sent + 1
   return reqs[idx]
end

function done(summary, latency, requests)
   local sentl, loadedl, w = {}, {}, 0
   for _, t in ipairs(threads) do
      sentl[#sentl + 1] = tostring(t:get("sent"))
      loadedl[#loadedl + 1] = tostring(t:get("loaded"))
      w = w + t:get("wraps")
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,' ..
      '"sent":[%s],"loaded":[%s],"wraps":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max,
      table.concat(sentl, ","), table.concat(loadedl, ","), w))
end
