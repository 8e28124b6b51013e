/** Issue #7, finding 8: a busy port is named ("port N is in use (PORT)"), not a TypeError. */
import { createServer, type Server } from 'node:net';
import { freePort, startTestSystem } from '../support/test-system';

it('says which port is in use and which variable sets it', async () => {
  const port = await freePort();
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', () => resolve()));
  try {
    await expect(startTestSystem({ PORT: String(port) })).rejects.toThrow(`el puerto ${port} ya está en uso (PORT)`);
  } finally {
    blocker.close();
  }
});
