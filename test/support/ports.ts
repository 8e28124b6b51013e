/**
 * Ports for the servers the tests start, found free a moment before they are bound.
 *
 * Not from the kernel's ephemeral range (32768–60999 on Linux), where `listen(0)` finds its
 * ports: every outgoing connection of the tests takes its local port from that range too, and the
 * other Jest worker's `listen(0)` can be handed a port again once it is closed, so now and then a
 * port found free was taken before the system bound it (EADDRINUSE in CI, 2026-11-30). Here each
 * Jest worker has its own slice below that range, walked from a random start, and a port is handed
 * out only once it could be bound.
 */
import { createServer } from 'node:net';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** This process's Jest worker (1, 2, …), or 0 outside a worker (global set-up, scripts). */
function jestWorker(): number {
  const id = Number(process.env.JEST_WORKER_ID);
  return Number.isInteger(id) && id > 0 ? id : 0;
}

const cursors = new Map<number, number>();

/** A free port in [start + worker × size, start + (worker + 1) × size), `slices` slices at most. */
async function portInSlice(start: number, size: number, slices: number): Promise<number> {
  const from = start + (jestWorker() % slices) * size;
  let cursor = cursors.get(from) ?? Math.floor(Math.random() * size);
  try {
    for (let tries = 0; tries < size; tries += 1) {
      const port = from + (cursor++ % size);
      if (await canListen(port)) return port;
    }
  } finally {
    cursors.set(from, cursor);
  }
  throw new Error(`no free port in ${from}–${from + size - 1}`);
}

/** For the tool, its simulators and other test servers: 20000–31999, 1,200 per worker. */
export function freeTestPort(): Promise<number> {
  return portInSlice(20_000, 1_200, 10);
}

/** For FerretDB servers (restarted on the same port by some tests): 32000–32767, 96 per worker. */
export function freeDatabasePort(): Promise<number> {
  return portInSlice(32_000, 96, 8);
}
