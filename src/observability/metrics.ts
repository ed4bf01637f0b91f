import client from "prom-client";

/** Prometheus metrics for /metrics: process defaults plus request counts and durations. */
export class Metrics {
  readonly registry = new client.Registry();
  private requests = new client.Counter({
    name: "pier_http_requests_total",
    help: "HTTP requests answered, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  private duration = new client.Histogram({
    name: "pier_http_request_duration_seconds",
    help: "Time to answer an HTTP request.",
    labelNames: ["method", "route"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor(gauges: Record<string, { help: string; read: () => number }> = {}) {
    client.collectDefaultMetrics({ register: this.registry, prefix: "pier_" });
    for (const [name, { help, read }] of Object.entries(gauges)) {
      new client.Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    }
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
