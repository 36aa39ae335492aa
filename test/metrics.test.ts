// The Prometheus registry on its own: the exposition text for every metric shape, label escaping, and
// label sets being the same series whatever the order their keys were written in.
import { expect, test } from "bun:test";
import { Registry } from "../src/metrics.ts";

test("counters, gauges and histograms render in the text exposition format", () => {
  const r = new Registry();
  const c = r.counter("t_requests_total", "Requests");
  c.inc();
  c.inc(2, { route: "/api", code: "200" });
  // The same label set with its keys in another order is the same series.
  c.inc(1, { code: "200", route: "/api" });
  const g = r.gauge("t_worker_hashrate", "Per worker");
  g.collect(() => {
    g.reset();
    g.set(5, { worker: "farm.rig1" });
    g.set(1.5, { worker: 'odd"name\\with\nnewline' });
  });
  const h = r.histogram("t_ms", "Latency", [1, 10]);
  h.observe(0.5);
  h.observe(7);
  expect(r.render()).toBe(
    [
      "# HELP t_requests_total Requests",
      "# TYPE t_requests_total counter",
      "t_requests_total 1",
      't_requests_total{route="/api",code="200"} 3',
      "# HELP t_worker_hashrate Per worker",
      "# TYPE t_worker_hashrate gauge",
      't_worker_hashrate{worker="farm.rig1"} 5',
      't_worker_hashrate{worker="odd\\"name\\\\with\\nnewline"} 1.5',
      "# HELP t_ms Latency",
      "# TYPE t_ms histogram",
      't_ms_bucket{le="1"} 1',
      't_ms_bucket{le="10"} 2',
      't_ms_bucket{le="+Inf"} 2',
      "t_ms_sum 7.5",
      "t_ms_count 2",
      "",
    ].join("\n"),
  );
  expect(c.value({ code: "200", route: "/api" })).toBe(3);
  expect(g.value({ worker: "farm.rig1" })).toBe(5);
});

test("a gauge reset at scrape time drops the series not set again and keeps the others", () => {
  const r = new Registry();
  const g = r.gauge("t_hashrate", "h");
  let workers = ["a", "b", "c"];
  g.collect(() => {
    g.reset();
    for (const w of workers) g.set(w.charCodeAt(0), { worker: w });
  });
  expect(r.render()).toContain('t_hashrate{worker="b"} 98');
  workers = ["a", "c", "d"];
  const text = r.render();
  expect(text.split("\n").filter((l) => l.startsWith("t_hashrate{"))).toEqual(['t_hashrate{worker="a"} 97', 't_hashrate{worker="c"} 99', 't_hashrate{worker="d"} 100']);
  // Between scrapes a reset gauge reads 0 for a dropped series.
  g.reset();
  expect(g.value({ worker: "a" })).toBe(0);
  g.inc(2, { worker: "a" });
  expect(g.value({ worker: "a" })).toBe(2);
});
