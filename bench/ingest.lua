-- wrk script: POST a valid stay report, each with a unique partner_reference.
-- Env: BENCH_PATH (default /v1/reports), BENCH_KEY (API key), BENCH_RUN (run id).
local path = os.getenv("BENCH_PATH") or "/v1/reports"
local key = os.getenv("BENCH_KEY") or ""
local run = os.getenv("BENCH_RUN") or "run"
local threads = {}
local counter = 0
local prefix = run

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = run .. "-" .. tostring(tid)
end

local template = [[{"partner_reference":"%s","context":"stay",]]
  .. [["observed_at":"2026-11-20T22:40:00+01:00",]]
  .. [["location":{"country":"FR","postcode":"13003","commune":"Marseille"},]]
  .. [["stay":{"listing_reference":"listing-%s","booking_reference":"HMX4QK2PZB",]]
  .. [["check_in":"2026-11-14","check_out":"2026-12-05","guest_count":2},]]
  .. [["indicators":["more_occupants_than_booked","frequent_visitors"],]]
  .. [["suspected_exploitation":["sexual"],]]
  .. [["persons":{"count":5,"minors":null,"in_immediate_danger":false},]]
  .. [["description":"Reservation pour 2 personnes, au moins 5 jeunes femmes presentes.",]]
  .. [["reporter":{"role":"host","contact_consent":false},"language":"fr"}]]

local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. key,
}

function request()
  counter = counter + 1
  local reference = prefix .. "-" .. counter
  local body = string.format(template, reference, counter % 997)
  return wrk.format("POST", path, headers, body)
end
