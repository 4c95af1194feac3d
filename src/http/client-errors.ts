/**
 * Requests Node refuses before fastify sees them: a request line and headers over the size limit, a
 * request that does not parse, one that does not arrive in time. Each still gets a JSON error,
 * because the official SDKs turn any other body into a bare SyntaxError.
 *
 * The dialect comes from the request line, but Node hands over only the bytes of its last read from
 * the socket (at most 64 KB), so past the limit the request line is usually gone. The answer then
 * carries the fields of both dialects: each client finds its own code and ignores the rest.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { errors, type AppError } from '../kernel/errors.js';
import { dialectOf, errorResponse, type Dialect } from './failures.js';

/** A client error as node:http reports it: `rawPacket` is the last read's bytes (which may carry secrets). */
type ClientError = Error & { code?: string; rawPacket?: unknown; bytesParsed?: number };

const REQUEST_LINE = /^[A-Z]{3,10} (\/\S*)/;
const VERSION_TAIL = / HTTP\/\d\.\d$/;

/**
 * What the bytes in hand say of the request: its dialect when they begin with the request line, and
 * whether the URL is what overflowed: the parser stopped before the ` HTTP/1.1` that ends the
 * request line, or the bytes are the start of a request line that has not ended yet.
 */
function readPacket(err: ClientError): { dialect?: Dialect; inUrl: boolean } {
  const packet = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined;
  if (packet === undefined) return { inUrl: false };
  const line = REQUEST_LINE.exec(packet.subarray(0, 4096).toString('latin1'));
  const dialect = line ? dialectOf(line[1]!) : undefined;
  const lineEnd = packet.indexOf('\r\n');
  if (lineEnd < 0) return { dialect, inUrl: line !== null };
  const versionAt = lineEnd - ' HTTP/1.1'.length;
  const endsRequestLine = VERSION_TAIL.test(packet.subarray(Math.max(0, versionAt), lineEnd).toString('latin1'));
  return { dialect, inUrl: endsRequestLine && (err.bytesParsed ?? lineEnd) <= versionAt };
}

function asAppError(err: ClientError, inUrl: boolean, maxHeaderBytes: number): AppError {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return inUrl ? errors.uriTooLong(`the URL exceeds ${maxHeaderBytes} bytes`) : errors.headersTooLarge(maxHeaderBytes);
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return errors.requestTimeout();
  return errors.malformedBody('the request is not valid HTTP/1.1');
}

/** The error in the request's dialect, or in both at once when the bytes in hand do not tell. */
function responseFor(dialect: Dialect | undefined, err: AppError, requestId: string) {
  if (dialect) return errorResponse(dialect, err, requestId);
  const rpc = errorResponse('rpc', err, requestId);
  const apig = errorResponse('apig', err, requestId);
  return { status: rpc.status, code: `${rpc.code}|${apig.code}`, body: { ...rpc.body, ...apig.body } };
}

/** fastify's `clientErrorHandler`: one JSON answer (see above for its dialect), and not one byte of the request in the log. */
export function clientErrorHandler(maxHeaderBytes: number, log: FastifyBaseLogger) {
  return function handle(err: ClientError, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { dialect, inUrl } = readPacket(err);
    const requestId = randomUUID();
    const response = responseFor(dialect, asAppError(err, inUrl, maxHeaderBytes), requestId);
    log.info({ requestId, clientError: err.code, status: response.status, wireCode: response.code }, 'request refused by the HTTP parser');
    if (socket.writable) {
      const body = JSON.stringify(response.body);
      socket.write(
        `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
