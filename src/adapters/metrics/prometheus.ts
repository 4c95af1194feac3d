/**
 * The Prometheus exposition of certplane (`GET /metrics`, docs/metrics.md): a registry of this
 * process's own counters and histograms (prom-client; behind `serve --workers N`, summed over the N:
 * cluster-metrics.ts), the job queue read at scrape time, and one expiry sample per certificate,
 * read from the database and written out as text directly (a prom-client gauge holding 100,000
 * label sets costs more than the scrape itself).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IssuanceFinished, IssuanceMetrics } from '../../core/metrics/ports.js';
import type { Clock } from '../../kernel/clock.js';
import { CERTIFICATE_KINDS, type ExpirationRow, type SqlMetricsSource } from '../db/metrics-source.js';

export const EXPIRATION_METRIC = 'certplane_certificate_expiration_timestamp_seconds';

/** Which wire dialect a request spoke. */
export type HttpDialect = 'aliyun-rpc' | 'huawei-rest' | 'pki' | 'other';

export interface HttpObservation {
  dialect: HttpDialect;
  /** The RPC action, or the route (method and path pattern) of the other dialects. */
  action: string;
  code: number;
  durationSeconds: number;
}

/** Seconds: an ACME order takes from under a second (a test CA) to hours (a user placing a record). */
const ORDER_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class PrometheusMetrics implements IssuanceMetrics {
  /** What this process counts (issuances, HTTP requests). */
  readonly counted = new Registry();
  /** What is read from the database at scrape time (the job queue). */
  private readonly scraped = new Registry();
  /** The counted metrics as one scrape shows them: this process's, or every worker's together. */
  private countedText: () => Promise<string> = () => this.counted.metrics();
  private readonly issuances: Counter<'kind' | 'outcome'>;
  private readonly orderDuration: Histogram<'kind' | 'outcome'>;
  private readonly httpRequests: Counter<'dialect' | 'action' | 'code'>;
  private readonly httpDuration: Histogram<'dialect' | 'action'>;

  constructor(
    private readonly source: SqlMetricsSource,
    clock: Clock,
  ) {
    const registers = [this.counted];
    this.issuances = new Counter({
      name: 'certplane_issuances_total',
      help: 'ACME issuances that ended in the processes of this serve (summed behind --workers), by kind (issue, renew) and outcome (valid, invalid, canceled).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.orderDuration = new Histogram({
      name: 'certplane_acme_order_duration_seconds',
      help: 'Time from an ACME issuance being created to its end, by kind and outcome.',
      labelNames: ['kind', 'outcome'],
      buckets: ORDER_BUCKETS,
      registers,
    });
    this.httpRequests = new Counter({
      name: 'certplane_http_requests_total',
      help: 'HTTP requests answered, by dialect, action (RPC action or route) and status code.',
      labelNames: ['dialect', 'action', 'code'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'certplane_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by dialect and action.',
      labelNames: ['dialect', 'action'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    // Read from the jobs table when scraped, so every process shows the same shared queue.
    const shared = [this.scraped];
    new Gauge({
      name: 'certplane_jobs',
      help: 'Jobs in the durable queue by name and state (queued, running, failed), read at scrape time.',
      labelNames: ['name', 'state'],
      registers: shared,
      collect: async function (this: Gauge<'name' | 'state'>) {
        this.reset();
        for (const depth of await source.jobDepths()) this.set({ name: depth.name, state: depth.state }, depth.count);
      },
    });
    new Gauge({
      name: 'certplane_job_oldest_due_age_seconds',
      help: 'How long the queued job that is most overdue has waited past its run time (0: none is due), read at scrape time.',
      registers: shared,
      collect: async function (this: Gauge) {
        const now = clock.now();
        const oldest = await source.oldestDue(now);
        this.set(oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0);
      },
    });
  }

  issuanceFinished(event: IssuanceFinished): void {
    this.issuances.inc({ kind: event.kind, outcome: event.outcome });
    this.orderDuration.observe({ kind: event.kind, outcome: event.outcome }, event.durationSeconds);
  }

  httpAnswered(observation: HttpObservation): void {
    const { dialect, action, code } = observation;
    this.httpRequests.inc({ dialect, action, code: String(code) });
    this.httpDuration.observe({ dialect, action }, observation.durationSeconds);
  }

  /** Scrapes show the counts of every process `counts` gathers (a `serve --workers` worker: clusterCounts). */
  countAcross(counts: () => Promise<string>): void {
    this.countedText = counts;
  }

  get contentType(): string {
    return this.counted.contentType;
  }

  /** The whole exposition: the counted metrics, the scrape-time gauges, then one expiry sample per certificate. */
  async render(): Promise<string> {
    const parts = [await this.countedText(), await this.scraped.metrics(), await this.expirations()];
    return parts.map((part) => (part === '' || part.endsWith('\n') ? part : `${part}\n`)).join('');
  }

  private async expirations(): Promise<string> {
    const lines = [
      `# HELP ${EXPIRATION_METRIC} The date after which the certificate expires (its notAfter), as a Unix timestamp, by kind, id, account, common name and serial.`,
      `# TYPE ${EXPIRATION_METRIC} gauge`,
    ];
    for (const kind of CERTIFICATE_KINDS) {
      const rows = await this.source.expirations(kind);
      for (const row of rows) {
        const seconds = Math.floor(Date.parse(row.not_after) / 1000);
        if (!Number.isFinite(seconds)) continue;
        lines.push(
          `${EXPIRATION_METRIC}{kind="${kind}",id="${escapeLabel(row.id)}",account="${escapeLabel(row.account)}",` +
            `common_name="${escapeLabel(row.common_name ?? '')}",serial="${serialLabel(row)}"} ${seconds}`,
        );
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

/** The serial as even-length lower-case hex (what `openssl x509 -serial` prints, lower-cased), whatever the table keeps. */
function serialLabel(row: ExpirationRow): string {
  let hex: string;
  if (row.serial_hex !== null) hex = row.serial_hex.toLowerCase();
  else if (row.serial_decimal !== null && /^\d{1,200}$/.test(row.serial_decimal)) hex = BigInt(row.serial_decimal).toString(16);
  else return '';
  if (!/^[0-9a-f]*$/.test(hex)) return escapeLabel(hex);
  return hex.length % 2 === 1 ? `0${hex}` : hex;
}

/** A label value in the text format: backslash, double quote and line feed escaped. */
export function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}
