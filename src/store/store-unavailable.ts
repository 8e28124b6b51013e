/**
 * Recognises "the store is unreachable or refuses writes" among the errors the drivers throw
 * (MongoDB: lost connection, no server selectable, not primary; SQLite: read-only file, I/O error,
 * disk full, locked too long) and turns it into one AppError: 503 `store-unavailable` with a Spanish
 * message, so learners and staff get a clear page or JSON instead of a generic 500. Matching is by
 * error name and code, not `instanceof`: ltijs's mongoose 7 and our mongoose 8 have their own classes.
 */
import { AppError } from '../errors';

const MONGO_ERROR_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'PoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoPoolClearedError',
]);
/** NotWritablePrimary, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary, PrimarySteppedDown, ShutdownInProgress, InterruptedAtShutdown… */
const MONGO_UNAVAILABLE_CODES = new Set([10107, 13435, 13436, 189, 91, 11600, 11602, 6, 7, 89, 9001]);
const SQLITE_UNAVAILABLE = /^SQLITE_(READONLY|IOERR|CANTOPEN|FULL|BUSY|LOCKED|NOTADB|CORRUPT)/;

export const STORE_UNAVAILABLE_MESSAGE =
  'El registro de asistencia no está disponible en este momento (no podemos guardar ni leer datos). ' +
  'No se guardó nada de esta acción. Intenta nuevamente en unos minutos.';

export const STORE_UNAVAILABLE_HINT =
  'La base de datos de la herramienta no responde o está en modo de solo lectura. Revise GET /readyz y el ' +
  'servidor de MongoDB (MONGODB_URI) o los permisos del archivo SQLite (SQLITE_FILE). La herramienta se ' +
  'recupera sola cuando la base vuelve.';

function isStoreFailure(error: unknown, depth: number): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const e = error as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; reason?: unknown };
  if (typeof e.name === 'string' && MONGO_ERROR_NAMES.has(e.name)) return true;
  if (typeof e.code === 'number' && MONGO_UNAVAILABLE_CODES.has(e.code) && typeof e.name === 'string' && e.name.startsWith('Mongo')) return true;
  if (typeof e.code === 'string' && SQLITE_UNAVAILABLE.test(e.code)) return true;
  if (typeof e.message === 'string') {
    // mongoose: "Operation `x.findOne()` buffering timed out after 10000ms" while disconnected;
    // mongoose/driver after close: "Client must be connected before running operations".
    if (/buffering timed out after|Client must be connected|connection .* closed|Topology is closed/i.test(e.message)) return true;
    // FerretDB on its SQLite backend under many concurrent writers answers with SQLite's busy error.
    if (typeof e.name === 'string' && e.name.startsWith('Mongo') && /database is locked|SQLITE_BUSY/.test(e.message)) return true;
  }
  return isStoreFailure(e.cause, depth + 1) || isStoreFailure(e.reason, depth + 1);
}

/**
 * "Database is locked": FerretDB on its SQLite backend answers so when many write at once (and
 * SQLite after its busy timeout). The write did not happen, so it may be tried again.
 */
export function isStoreBusy(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; message?: unknown };
  return e.code === 'SQLITE_BUSY' || (typeof e.message === 'string' && /database is locked|SQLITE_BUSY/.test(e.message));
}

export function isStoreUnavailable(error: unknown): boolean {
  if (error instanceof AppError) return error.code === 'store-unavailable';
  return isStoreFailure(error, 0);
}

/** The 503 for a store failure (keeps the driver's error as cause, for the log), or null. */
export function storeUnavailableError(error: unknown): AppError | null {
  if (error instanceof AppError) return error.code === 'store-unavailable' ? error : null;
  if (!isStoreFailure(error, 0)) return null;
  return new AppError('store-unavailable', 503, STORE_UNAVAILABLE_MESSAGE, {
    cause: error,
    staffHint: STORE_UNAVAILABLE_HINT,
  });
}
