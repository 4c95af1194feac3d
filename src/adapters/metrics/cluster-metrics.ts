/**
 * `serve --workers N`: one scrape, whichever worker takes it, shows the counters of all N. The
 * worker asks the primary over the cluster channel; the primary asks every worker for its counted
 * metrics (prom-client's AggregatorRegistry: counters and histograms summed) and answers with the
 * text. What is read from the database at scrape time is not part of it: the answering worker reads
 * it itself, once. A worker that has not answered in time fails the scrape rather than showing a
 * part of the counts (which Prometheus would take for a counter reset).
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../../kernel/logger.js';

const SCRAPE = 'certplane:metrics-scrape';
const SCRAPED = 'certplane:metrics-scraped';
/** prom-client gives the workers 5 s; the asking worker waits a little longer for the primary's answer. */
const ANSWER_WITHIN_MS = 6000;

interface ScrapeMessage {
  type: typeof SCRAPE;
  id: number;
}

type ScrapedMessage = { type: typeof SCRAPED; id: number; text: string } | { type: typeof SCRAPED; id: number; error: string };

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** In the primary: answers the workers' scrapes with the counted metrics of every worker. */
export function answerClusterScrapes(logger: Logger): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<ScrapeMessage>(message, SCRAPE)) return;
    const reply = (answer: ScrapedMessage) => {
      if (worker.isConnected()) worker.send(answer);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ type: SCRAPED, id: message.id, text }),
      (err: unknown) => {
        logger.warn({ err }, 'metrics: a worker did not give its counts in time; the scrape fails');
        reply({ type: SCRAPED, id: message.id, error: err instanceof Error ? err.message : String(err) });
      },
    );
  });
}

/**
 * In a worker: `counted` is what the primary collects from this process, and the returned function
 * gets the sum over every worker.
 */
export function clusterCounts(counted: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([counted]);
  new AggregatorRegistry(); // installs the worker's answer to the primary's requests
  const waiting = new Map<number, { resolve(text: string): void; reject(err: Error): void; timer: NodeJS.Timeout }>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage<ScrapedMessage>(message, SCRAPED)) return;
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    clearTimeout(pending.timer);
    if ('error' in message) pending.reject(new Error(`the counts of every worker could not be gathered: ${message.error}`));
    else pending.resolve(message.text);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the primary did not answer within ${ANSWER_WITHIN_MS} ms`));
      }, ANSWER_WITHIN_MS);
      waiting.set(id, { resolve, reject, timer });
      process.send?.({ type: SCRAPE, id } satisfies ScrapeMessage);
    });
}
