/**
 * The one multipart upload of the tool (the per-learner actions CSV, issue #9) is read BEFORE ltijs,
 * bounded: its ltik and course travel in the multipart body like every other form's (issue #6: never
 * in the URL), and ltijs can only read a parsed body. Everything else under /lti stays urlencoded or
 * JSON (request-shape.ts).
 */
import type { NextFunction, Request, Response } from 'express';
import multer from 'multer';
import { AppError } from '../errors';
import { MAX_UPLOAD_BYTES } from '../domain/action-upload';

/** The longest ltik field read from an upload (an ltik is at most 4096 characters, request-shape.ts). */
export const LTIK_FIELD_MAX_BYTES = 4096;

/** Path under /lti of the only route that accepts multipart/form-data. */
export const UPLOAD_PATH = '/staff/actions/upload';

// Browsers send the file name as UTF-8 (multer's default would read it as Latin-1).
const upload = multer({ storage: multer.memoryStorage(), defParamCharset: 'utf8', limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 5, parts: 6 } });

/** multer's errors → our Spanish AppErrors (a 10 MB file is refused while it streams, nothing kept). */
export function receiveFile(req: Request, res: Response, next: NextFunction): void {
  upload.single('archivo')(req, res, (err: unknown) => {
    if (!err) {
      next();
      return;
    }
    const code = (err as { code?: string }).code;
    if (code === 'LIMIT_FILE_SIZE') {
      next(new AppError('upload-too-large', 413, 'El archivo es demasiado grande: el máximo es 1 MB (unas 5.000 filas). No se guardó nada.'));
      return;
    }
    next(new AppError('upload-invalid', 400, 'No pudimos leer el archivo enviado. Elija un archivo CSV e inténtelo de nuevo. No se guardó nada.', { cause: err }));
  });
}

