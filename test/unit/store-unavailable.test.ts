import { AppError } from '../../src/errors';
import { isStoreUnavailable, storeUnavailableError } from '../../src/store/store-unavailable';

const named = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name, ...extra });

describe('store failures become 503 store-unavailable', () => {
  it.each([
    ['MongoDB unreachable', named('MongoServerSelectionError', 'connect ECONNREFUSED 127.0.0.1:27017')],
    ['MongoDB connection lost', named('MongoNetworkError', 'connection 3 to 127.0.0.1:27017 closed')],
    ['MongoDB not primary', named('MongoServerError', 'not primary', { code: 10107 })],
    ['mongoose buffering while disconnected', named('MongooseError', 'Operation `sence_sessions.findOne()` buffering timed out after 10000ms')],
    ['FerretDB/SQLite busy', named('MongoServerError', '[collection.go:241 sqlite.(*collection).DeleteAll] database is locked (5) (SQLITE_BUSY)', { code: 1 })],
    ['SQLite read-only', named('SqliteError', 'attempt to write a readonly database', { code: 'SQLITE_READONLY' })],
    ['SQLite I/O error', named('SqliteError', 'disk I/O error', { code: 'SQLITE_IOERR_WRITE' })],
    ['wrapped as a cause', new Error('outer', { cause: named('MongoNetworkError', 'socket hang up') })],
  ])('%s', (_what, error) => {
    expect(isStoreUnavailable(error)).toBe(true);
    const mapped = storeUnavailableError(error)!;
    expect(mapped).toMatchObject({ code: 'store-unavailable', status: 503, expose: true });
    expect(mapped.message).toBe('El registro de asistencia no está disponible en este momento (no podemos guardar ni leer datos). No se guardó nada de esta acción. Intenta nuevamente en unos minutos.');
    expect(mapped.staffHint).toContain('GET /readyz');
  });

  it.each([
    ['a duplicate key', named('MongoServerError', 'E11000 duplicate key error', { code: 11000 })],
    ['a SQLite constraint', named('SqliteError', 'UNIQUE constraint failed', { code: 'SQLITE_CONSTRAINT_UNIQUE' })],
    ['a programming error', new TypeError('x is undefined')],
    ['an AppError of another kind', new AppError('not-found', 404, 'No existe.')],
  ])('not %s', (_what, error) => {
    expect(isStoreUnavailable(error)).toBe(false);
    expect(storeUnavailableError(error)).toBeNull();
  });
});
