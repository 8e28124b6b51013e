/**
 * Jest setupFile: tests may only talk to this machine. Any outbound connection to another host
 * (SENCE's real systems above all) fails loudly instead of leaving the machine.
 */
import net from 'node:net';

const allowed = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);
// The store contract suite may reach the MongoDB named by MONGODB_URI (e.g. a docker-compose service).
for (const host of (process.env.MONGODB_URI ?? '').replace(/^mongodb(\+srv)?:\/\/([^@/]*@)?/, '').split('/')[0]?.split(',') ?? []) {
  if (host) allowed.add(host.replace(/:\d+$/, ''));
}
const originalConnect = net.Socket.prototype.connect;

function hostOf(args: unknown[]): string | undefined {
  const first = args[0];
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    const o = first as { host?: string; path?: string };
    if (o.path) return 'localhost';
    return o.host ?? 'localhost';
  }
  if (typeof first === 'number') return typeof args[1] === 'string' ? (args[1] as string) : 'localhost';
  if (typeof first === 'string') return 'localhost'; // unix socket path
  return undefined;
}

net.Socket.prototype.connect = function sealedConnect(this: net.Socket, ...args: unknown[]) {
  const host = hostOf(args);
  if (host !== undefined && !allowed.has(host) && !host.startsWith('127.')) {
    throw new Error(`Network sealed in tests: refused connection to ${host}`);
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
