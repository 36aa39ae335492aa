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
