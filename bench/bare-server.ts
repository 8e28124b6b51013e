/** Child process of the launch benchmark: the baseline, a bare Express 5 app answering "hello". */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { memorySample, send, type ParentMessage } from './ipc';

const app = express();
app.get('/', (_req, res) => {
  res.send('hello');
});

const server: Server = app.listen(0, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  send({ type: 'ready', url: `http://127.0.0.1:${port}`, lmsUrl: null, logins: [], memory: memorySample() });
});

process.on('message', (m: ParentMessage) => {
  if (m.type === 'memory') send({ type: 'memory', memory: memorySample() });
  if (m.type === 'stop') {
    server.closeAllConnections();
    server.close(() => {
      send({ type: 'stopped' });
      process.disconnect?.();
      process.exit(0);
    });
  }
});
process.on('disconnect', () => process.exit(0));
