/**
 * The one multipart upload of the tool (the per-learner actions CSV, issue #9) is read BEFORE ltijs,
 * bounded: its ltik and course travel in the multipart body like every other form's (issue #6: never
 * in the URL), and ltijs can only read a parsed body. Everything else under /lti stays urlencoded or
 * JSON (request-shape.ts).
 *
 * Authenticated before the file is read (issue #19 §5: 150 stalled uploads with no login held
 * 740 MB). In order:
 * 1. the Origin rule (origin-check.ts) on the headers, before any body byte is read;
 * 2. the fields (ltik, course) — which the page sends BEFORE the file — each at most a few kB;
 * 3. when the file part starts, the fields read so far pass the shape guard (request-shape.ts) and the ltik is verified as every request's (signature,
 *    age, active platform, launch records) and must be a staff member's; a file part with no ltik
 *    before it is refused. Until then the file part is not read at all (busboy waits: backpressure).
 * A refusal is answered at once with `Connection: close` and the connection is closed after the
 * answer: the rest of the body is never read (no draining of an attacker's 10 MB). What is kept per
 * request is bounded: at most 5 fields of 4 kB, then a staff member's file of at most 1 MB.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { AppError } from '../errors';
import { MAX_UPLOAD_BYTES } from '../domain/action-upload';

/** Path under /lti of the only route that accepts multipart/form-data. */
export const UPLOAD_PATH = '/staff/actions/upload';

/** The longest ltik field read from an upload (an ltik is at most 4096 characters, request-shape.ts). */
export const LTIK_FIELD_MAX_BYTES = 4096;
/** The longest field name (the form's are `ltik`, `course`, `archivo`). */
export const FIELD_NAME_MAX_BYTES = 100;

/** What decides, before the file is read, whether this upload may be read at all. */
export interface UploadGate {
  /** Runs on the headers alone, before any body byte is read (the Origin rule). */
  checkHeaders: RequestHandler;
  /** Resolves the ltik the form sent before its file and refuses anything but a staff member's (throws). */
  checkLtik(req: Request, res: Response, ltik: string): Promise<void>;
  /** The shape of the fields read before the file (request-shape.ts): the error to answer, or null. */
  checkFields?(fields: unknown): unknown;
}

const FILE_BEFORE_LTIK = new AppError(
  'lti-missing-ltik',
  401,
  'El formulario llegó sin su sesión antes del archivo. Vuelva a abrir la página de acciones desde su curso e inténtelo de nuevo. No se guardó nada.',
);

function fieldTooLong(): AppError {
  return new AppError('upload-invalid', 400, 'Un campo del formulario es demasiado largo o trae demasiadas partes. Vuelva a abrir la página de acciones desde su curso e inténtelo de nuevo. No se guardó nada.');
}

/** busboy's parser as multer hands it to `streamHandler` (no type package for busboy here). */
type Busboy = Writable;

function uploadFor(fileFilter: multer.Options['fileFilter'], streamHandler: (req: Request, busboy: Busboy) => void) {
  // Browsers send the file name as UTF-8 (multer's default would read it as Latin-1).
  return multer({
    storage: multer.memoryStorage(),
    defParamCharset: 'utf8',
    limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 5, parts: 6, fieldSize: LTIK_FIELD_MAX_BYTES, fieldNameSize: FIELD_NAME_MAX_BYTES },
    fileFilter,
    streamHandler,
  } as multer.Options).single('archivo');
}

/** multer's errors → our Spanish AppErrors (a 10 MB file is refused while it streams, nothing kept). */
function uploadError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'LIMIT_FILE_SIZE') {
    return new AppError('upload-too-large', 413, 'El archivo es demasiado grande: el máximo es 1 MB (unas 5.000 filas). No se guardó nada.');
  }
  if (code === 'LIMIT_FIELD_VALUE' || code === 'LIMIT_FIELD_KEY' || code === 'LIMIT_FIELD_COUNT' || code === 'LIMIT_PART_COUNT') return fieldTooLong();
  return new AppError('upload-invalid', 400, 'No pudimos leer el archivo enviado. Elija un archivo CSV e inténtelo de nuevo. No se guardó nada.', { cause: err });
}

/** How long a refused upload's connection stays after the answer (so the client reads it) before it is cut. */
export const LINGER_MS = 2000;

/**
 * Node closes the socket of a `Connection: close` answer (destroySoon) as soon as the answer is
 * written. If bytes the client already sent are still unread then, the kernel answers them with a
 * reset, and the client may lose the answer itself (a browser shows "connection reset" instead of
 * the Spanish page). So: the answer and our FIN first, the socket destroyed LINGER_MS later (or
 * when the client closes). Nothing more is read meanwhile: what the client had sent waits in the
 * kernel's socket buffer, not in the process (reading and discarding 150 × 900 kB left the
 * process 40 MB bigger, in freed native buffers malloc kept).
 */
function lingeringClose(socket: Socket): void {
  socket.destroySoon = function lingerThenDestroy(this: Socket) {
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}

/**
 * The upload's body parser. `next` is called once: with nothing (req.body and req.file set), or
 * with the error. Without a gate (unit tests of the shape guard) the file is read as before.
 */
export function receiveFile(req: Request, res: Response, next: NextFunction, gate?: UploadGate): void {
  let answered = false;
  const answer = (err?: unknown) => {
    if (answered) return;
    answered = true;
    next(err === undefined ? undefined : uploadError(err));
  };
  /** Refused before the file is read: answered now, and the connection closed after the answer. */
  const refuseNow = (err: unknown) => {
    if (answered) return;
    if (!res.headersSent) res.setHeader('Connection', 'close');
    lingeringClose(req.socket);
    answer(err);
    // multer drains the rest of a refused body (reads and discards it): not this one. What the
    // client already sent stays in the kernel's socket buffer until the socket is destroyed.
    setImmediate(() => {
      req.removeAllListeners('readable');
      req.removeAllListeners('data');
      req.pause();
    });
  };

  const fileFilter: multer.Options['fileFilter'] = (request, _file, accept) => {
    if (!gate) return accept(null, true);
    const malformed = gate.checkFields?.(request.body) ?? null;
    if (malformed !== null) {
      refuseNow(malformed);
      accept(malformed as Error);
      return;
    }
    const ltik = (request.body as Record<string, unknown> | undefined)?.ltik;
    if (typeof ltik !== 'string' || ltik === '') {
      refuseNow(FILE_BEFORE_LTIK);
      accept(FILE_BEFORE_LTIK);
      return;
    }
    gate.checkLtik(req, res, ltik).then(
      () => accept(null, true),
      (err: unknown) => {
        refuseNow(err);
        accept(err as Error);
      },
    );
  };
  // Limits crossed before the file: answered now (multer itself would read the whole body first).
  const streamHandler = (request: Request, busboy: Busboy) => {
    busboy.on('field', (_name: unknown, _value: unknown, info: { nameTruncated: boolean; valueTruncated: boolean }) => {
      if (info.nameTruncated || info.valueTruncated) refuseNow(fieldTooLong());
    });
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) busboy.on(limit, () => refuseNow(fieldTooLong()));
    request.pipe(busboy);
  };

  const parse = () => uploadFor(fileFilter, streamHandler)(req, res, (err: unknown) => answer(err ?? undefined));
  if (!gate) {
    parse();
    return;
  }
  gate.checkHeaders(req, res, (err?: unknown) => (err ? refuseNow(err) : parse()));
}
