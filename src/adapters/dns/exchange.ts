import dgram from 'node:dgram';
import { isIP } from 'node:net';
import net from 'node:net';

/** One DNS server, by IP address and port. */
export interface DnsServer {
  host: string;
  port: number;
}

/** `IP:PORT`, `[v6]:PORT`, or a bare IP (port 53). */
export function parseServer(text: string, defaultPort = 53): DnsServer {
  const match = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([0-9.]+)(?::(\d{1,5}))?$/.exec(text);
  const host = match?.[1] ?? (isIP(text) === 6 ? text : undefined);
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (host === undefined || isIP(host) === 0 || !(port >= 1 && port <= 65_535)) {
    throw new RangeError(`${JSON.stringify(text)} is not IP:PORT`);
  }
  return { host, port };
}

export function describeServer(server: DnsServer): string {
  return isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/** The server did not answer in time, or the connection failed: worth trying again later. */
export class ExchangeFailed extends Error {
  override readonly name = 'ExchangeFailed';
}

export interface ExchangeOptions {
  /** Per try over UDP, and for the whole TCP exchange. */
  timeoutMs: number;
  /** UDP sends before giving up (a lost datagram is sent again). */
  tries?: number;
  signal?: AbortSignal | undefined;
}

// A DNS message over UDP without EDNS is at most 512 bytes (RFC 1035 §4.2.1).
const UDP_LIMIT = 512;
const TC = 0x0200;

/**
 * Sends one DNS message and returns the server's answer to it (same id, QR set): over UDP, or over
 * TCP when the message is too large for UDP or the UDP answer came back truncated.
 */
export async function exchange(server: DnsServer, message: Buffer, options: ExchangeOptions): Promise<Buffer> {
  if (message.length <= UDP_LIMIT) {
    const answer = await overUdp(server, message, options);
    if ((answer.readUInt16BE(2) & TC) === 0) return answer;
  }
  return overTcp(server, message, options);
}

function isAnswerTo(message: Buffer, answer: Buffer): boolean {
  return answer.length >= 12 && answer.readUInt16BE(0) === message.readUInt16BE(0) && (answer[2]! & 0x80) !== 0;
}

function overUdp(server: DnsServer, message: Buffer, options: ExchangeOptions): Promise<Buffer> {
  const tries = options.tries ?? 3;
  return new Promise<Buffer>((resolve, reject) => {
    const socket = dgram.createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const outcome = settleOnce(resolve, reject, options.signal, () => {
      clearTimeout(timer);
      socket.close();
    });
    const { finish } = outcome;
    const send = () => {
      if (outcome.done) return;
      if (sent === tries) {
        finish(new ExchangeFailed(`${describeServer(server)} did not answer within ${tries} × ${options.timeoutMs} ms`));
        return;
      }
      sent++;
      socket.send(message, server.port, server.host, (err) => {
        if (err) finish(new ExchangeFailed(`cannot send to ${describeServer(server)}: ${err.message}`, { cause: err }));
      });
      timer = setTimeout(send, options.timeoutMs);
    };
    socket.on('message', (answer, from) => {
      // Anything from elsewhere, or answering something else, is ignored: only our server's reply counts.
      if (from.address !== server.host || from.port !== server.port || !isAnswerTo(message, answer)) return;
      finish(undefined, answer);
    });
    socket.on('error', (err) => finish(new ExchangeFailed(`${describeServer(server)}: ${err.message}`, { cause: err })));
    if (outcome.watchAbort()) send();
  });
}

function overTcp(server: DnsServer, message: Buffer, options: ExchangeOptions): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    const outcome = settleOnce(resolve, reject, options.signal, () => {
      clearTimeout(timer);
      socket.destroy();
    });
    const { finish } = outcome;
    const timer = setTimeout(
      () => finish(new ExchangeFailed(`${describeServer(server)} did not answer over TCP within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.write(Buffer.concat([length, message]));
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
      const answer = received.subarray(2, 2 + received.readUInt16BE(0));
      if (isAnswerTo(message, answer)) finish(undefined, answer);
      else finish(new ExchangeFailed(`${describeServer(server)} answered something else over TCP`));
    });
    socket.on('error', (err) => finish(new ExchangeFailed(`${describeServer(server)}: ${err.message}`, { cause: err })));
    socket.on('close', () => finish(new ExchangeFailed(`${describeServer(server)} closed the TCP connection without an answer`)));
    outcome.watchAbort();
  });
}

/**
 * The one outcome of an exchange, whichever comes first (an answer, a failure, a timeout, an abort
 * of `signal`): `finish` settles the promise once, stops listening for the abort and runs `close`
 * (timer, socket). `watchAbort` starts listening, or finishes at once when `signal` was already
 * aborted (false then: nothing should be sent).
 */
function settleOnce(
  resolve: (answer: Buffer) => void,
  reject: (err: Error) => void,
  signal: AbortSignal | undefined,
  close: () => void,
): { finish(err: Error | undefined, answer?: Buffer): void; readonly done: boolean; watchAbort(): boolean } {
  let done = false;
  const onAbort = () => finish(abortReason(signal));
  const finish = (err: Error | undefined, answer?: Buffer): void => {
    if (done) return;
    done = true;
    signal?.removeEventListener('abort', onAbort);
    close();
    if (err) reject(err);
    else resolve(answer!);
  };
  return {
    finish,
    get done() {
      return done;
    },
    watchAbort() {
      if (signal?.aborted) {
        onAbort();
        return false;
      }
      signal?.addEventListener('abort', onAbort);
      return true;
    },
  };
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}
