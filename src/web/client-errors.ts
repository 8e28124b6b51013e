/**
 * Errors raised by Express, its router and body-parser (ours and ltijs's) are `http-errors` objects
 * with a 4xx `status` and a `type`. They are the client's fault: turn them into AppErrors with the
 * same status and a Spanish message, so they are answered as 4xx and logged at warn, never as 500.
 */
import { AppError } from '../errors';

interface HttpErrorLike {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  expose?: unknown;
}

const BY_TYPE: Record<string, { code: AppError['code']; message: string }> = {
  'encoding.unsupported': { code: 'unsupported-media-type', message: 'El contenido comprimido (Content-Encoding) no se acepta: envía el formulario sin comprimir.' },
  'charset.unsupported': { code: 'unsupported-media-type', message: 'La codificación de caracteres del formulario no se acepta: usa UTF-8.' },
  'entity.too.large': { code: 'request-too-large', message: 'El contenido enviado es demasiado grande.' },
  'parameters.too.many': { code: 'request-too-large', message: 'El formulario trae demasiados parámetros.' },
  'entity.parse.failed': { code: 'bad-request', message: 'No se pudo leer el contenido enviado (formato no válido).' },
  'entity.verify.failed': { code: 'bad-request', message: 'No se pudo leer el contenido enviado (formato no válido).' },
  'request.aborted': { code: 'bad-request', message: 'La solicitud se interrumpió antes de terminar.' },
  'request.size.invalid': { code: 'bad-request', message: 'La solicitud llegó incompleta.' },
};

/** An AppError for a 4xx http-error (body-parser, router), or null when `error` is something else. */
export function clientErrorOf(error: unknown): AppError | null {
  if (error instanceof AppError || typeof error !== 'object' || error === null) return null;
  const e = error as HttpErrorLike;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 0;
  if (status < 400 || status > 499) return null;
  const known = typeof e.type === 'string' && Object.hasOwn(BY_TYPE, e.type) ? BY_TYPE[e.type] : undefined;
  if (known) return new AppError(known.code, status, known.message, { details: { type: e.type } });
  if (error instanceof URIError || /decode/i.test((error as Error).message ?? '')) {
    return new AppError('bad-request', 400, 'La dirección no es válida (codificación con % incorrecta).');
  }
  return new AppError('bad-request', status, 'La solicitud no es válida.', { details: { reason: String((error as Error).message ?? '').slice(0, 120) } });
}
