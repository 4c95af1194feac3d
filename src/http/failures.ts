/**
 * Failed requests of both dialects: which dialect a request speaks, how fastify's own rejections
 * (content type, JSON, body size, URL) join the error catalogue, and the one way an error is
 * logged and answered. Nothing here lets an error through as `InternalError` unless it is one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errors } from '../kernel/errors.js';
import { rpcErrorResponse, type RpcErrorOverrides } from './aliyun-rpc/errors.js';
import { apigErrorResponse } from './huawei-rest/errors.js';

export type Dialect = 'apig' | 'rpc';

/** `/v2/…` is Huawei APIG; every other path belongs to the Alibaba RPC dialect (its operations live at `/`). */
export function dialectOf(url: string): Dialect {
  return url === '/v2' || url.startsWith('/v2/') || url.startsWith('/v2?') ? 'apig' : 'rpc';
}

/** Status and JSON body of an error in a dialect; `code` is the wire code, for the log. */
export function errorResponse(
  dialect: Dialect,
  err: AppError,
  requestId: string,
  overrides: RpcErrorOverrides = {},
): { status: number; code: string; body: Record<string, unknown> } {
  return dialect === 'apig' ? apigErrorResponse(err, requestId) : rpcErrorResponse(err, requestId, overrides);
}

/** What a dialect says when a Content-Type is refused. */
const MEDIA_TYPES: Record<Dialect, string> = {
  apig: 'Content-Type must be application/json',
  rpc: 'Content-Type is not a valid media type',
};

/** An error raised by fastify (or its parsers) as the catalogue's error; anything unknown is internal. */
export function fromFramework(error: Error & { code?: string; statusCode?: number }, dialect: Dialect, bodyLimit: number): AppError {
  if (error instanceof AppError) return error;
  if (error.statusCode === 413) return errors.bodyTooLarge(bodyLimit);
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_TYPE':
      return errors.malformedBody(MEDIA_TYPES[dialect]);
    case 'FST_ERR_BAD_URL':
      return errors.malformedBody('the URL path is not valid percent-encoded UTF-8');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return errors.uriTooLong('a path segment of the URL is too long');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.malformedBody('the request body is empty');
  }
  if (error instanceof SyntaxError) return errors.malformedBody('the request body is not valid JSON');
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500 && error.code?.startsWith('FST_')) {
    return errors.malformedBody(error.message);
  }
  return errors.internal(error);
}

/** Logs an error (the cause of an internal one; the code of any other) and answers it in the dialect. */
export function replyWithError(
  err: AppError,
  request: FastifyRequest,
  reply: FastifyReply,
  dialect: Dialect,
  overrides: RpcErrorOverrides = {},
): FastifyReply {
  const response = errorResponse(dialect, err, request.id, overrides);
  if (err.code === 'internal') request.log.error({ err: err.cause }, 'internal error');
  else request.log.info({ code: err.code, wireCode: response.code }, err.message);
  // Framework errors (a bad URL) skip the hooks that set this header on every other answer.
  return reply.code(response.status).header('x-request-id', request.id).send(response.body);
}
