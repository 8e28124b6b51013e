/**
 * ltijs 5.9.9 keeps its MongoDB connection on the default connection of its own mongoose 7 copy.
 * After an outage its reconnect handler (Database.js: on 'disconnected', mongoose.connect again)
 * can leave a client open that its Close() does not know about; the tool's shutdown closes every
 * connection of that mongoose copy, so a SIGTERM or a test run ends cleanly.
 */
import path from 'node:path';

interface MongooseLike {
  connection: { readyState: number };
  disconnect(): Promise<void>;
}

function ltijsMongoose(): MongooseLike | null {
  try {
    const resolved = require.resolve('mongoose', { paths: [path.dirname(require.resolve('ltijs/package.json'))] });
    return require(resolved) as MongooseLike;
  } catch {
    return null;
  }
}

/** readyState of ltijs's MongoDB connection (1 = connected). */
export function ltijsMongoState(): number {
  return ltijsMongoose()?.connection.readyState ?? 0;
}

/** Closes every connection of ltijs's mongoose copy (after ltijs's own Close()). */
export async function disconnectLtijsMongo(): Promise<void> {
  await ltijsMongoose()?.disconnect();
}
