import { errors, type StrataError } from '../errors/errors.js';
import { readBody, type HttpResponse } from './transport.js';

interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

/**
 * Turns a registry's error answer into a StrataError. The distribution error
 * body ({"errors":[{"code","message"}]}) is quoted when there is one, as
 * Docker does ("manifest unknown: manifest unknown").
 */
export async function responseError(res: HttpResponse, what: string): Promise<StrataError> {
  let detail = '';
  const body = await readBody(res, 64 << 10, 'error body').catch(() => Buffer.alloc(0));
  try {
    const doc = JSON.parse(body.toString('utf8')) as RegistryErrorBody;
    detail = (doc.errors ?? [])
      .map((e) => [e.code?.toLowerCase().replace(/_/g, ' '), e.message].filter(Boolean).join(': '))
      .join('; ');
  } catch {
    detail = body.toString('utf8').trim().slice(0, 200);
  }
  const message = `${what}: ${detail || `${res.status} ${res.body.statusMessage ?? ''}`.trim()}`;
  switch (res.status) {
    case 401:
    case 403:
      return errors.unauthorized(message);
    case 404:
      return errors.notFound(message);
    case 400:
    case 405:
    case 413:
    case 416:
      return errors.invalidArgument(message);
    default:
      return errors.unavailable(message);
  }
}
