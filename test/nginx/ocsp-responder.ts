/**
 * A tiny RFC 6960 OCSP responder for the nginx harness test, built only from the PKI toolkit: a node
 * http server answering GET (`/ocsp/{url-encoded base64}`) and POST (`/ocsp`, DER body). The test
 * sets each serial's status; everything else is `unknown`. It counts the requests it answers, so a
 * test can see that nginx really asked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildOcspResponse,
  certIdMatchesIssuer,
  ocspErrorResponse,
  ocspIssuerHashes,
  parseOcspRequest,
  type OcspCertStatus,
  type SigningIssuer,
} from '../../src/pki/index.js';

const PREFIX = '/ocsp';
const MINUTE = 60_000;

export interface Signer {
  /** Who signs the answers: the CA itself, or a delegated responder (profile ocspResponder). */
  issuer: SigningIssuer;
  /** DER certificates to include: the delegated responder's certificate; none when the CA signs. */
  certificates?: Buffer[];
}

export interface TestOcspResponder {
  /** `http://127.0.0.1:PORT/ocsp`, for ssl_ocsp_responder and `openssl ocsp -url`. */
  readonly url: string;
  /** Answers for this serial from now on; `undefined` forgets it (→ unknown). */
  setStatus(serial: Buffer, status: OcspCertStatus | undefined): void;
  /** Signs from now on with this signer. */
  setSigner(signer: Signer): void;
  /** Requests answered so far, with their method and the serials asked about (hex). */
  readonly answered: ReadonlyArray<{ method: string; serials: string[] }>;
  close(): Promise<void>;
}

export async function startOcspResponder(ca: SigningIssuer): Promise<TestOcspResponder> {
  const hashes = ocspIssuerHashes(ca);
  const statuses = new Map<string, OcspCertStatus>();
  let signer: Signer = { issuer: ca };
  const answered: Array<{ method: string; serials: string[] }> = [];

  const answer = (method: string, der: Buffer): Buffer => {
    let request;
    try {
      request = parseOcspRequest(der);
    } catch {
      return ocspErrorResponse('malformedRequest');
    }
    answered.push({ method, serials: request.certIds.map((id) => id.serial.toString('hex')) });
    const now = Date.now();
    const responses = request.certIds.map((certId) => {
      const known = certIdMatchesIssuer(certId, hashes) ? statuses.get(certId.serial.toString('hex')) : undefined;
      const status = known ?? { status: 'unknown' as const };
      return { ...status, certId, thisUpdate: new Date(now - MINUTE), nextUpdate: new Date(now + 10 * MINUTE) };
    });
    return buildOcspResponse({ responder: signer.issuer, certificates: signer.certificates, producedAt: new Date(now), nonce: request.nonce, responses });
  };

  const server = createServer((req, res) => {
    readRequest(req).then(
      (der) => reply(res, der === undefined ? undefined : answer(req.method ?? '', der)),
      () => reply(res, undefined),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${PREFIX}`,
    setStatus: (serial, status) => (status ? statuses.set(serial.toString('hex'), status) : statuses.delete(serial.toString('hex'))),
    setSigner: (next) => (signer = next),
    answered,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The DER request of a GET or POST to PREFIX; undefined for anything else (→ 404). */
async function readRequest(req: IncomingMessage): Promise<Buffer | undefined> {
  const path = (req.url ?? '').split('?')[0]!;
  if (req.method === 'GET' && path.startsWith(`${PREFIX}/`)) {
    return Buffer.from(decodeURIComponent(path.slice(PREFIX.length + 1)), 'base64');
  }
  if (req.method === 'POST' && path === PREFIX) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  return undefined;
}

function reply(res: ServerResponse, body: Buffer | undefined): void {
  if (body === undefined) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': body.length }).end(body);
}
