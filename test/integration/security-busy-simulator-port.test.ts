/**
 * A busy port of the demo's SENCE emulator (or LMS simulator) is named like the tool's own
 * (security-busy-port.test.ts), and the start leaves nothing half-started: the tool had already
 * bound its port, and closes it (and the stores) before reporting. Its own file: ltijs is set up
 * once per process.
 */
import { createServer, type Server } from 'node:net';
import { freePort, startTestSystem } from '../support/test-system';

it('a busy port of the demo LMS or SENCE emulator is named too, and nothing stays half-started (the tool port is free again)', async () => {
  const [toolPort, sencePort] = [await freePort(), await freePort()];
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(sencePort, '127.0.0.1', () => resolve()));
  try {
    await expect(startTestSystem({ PORT: String(toolPort), SENCE_EMULATOR_PORT: String(sencePort) })).rejects.toThrow(
      `el puerto ${sencePort} ya está en uso (SENCE_EMULATOR_PORT): cierre el otro proceso o elija otro puerto con SENCE_EMULATOR_PORT.`,
    );
  } finally {
    blocker.close();
  }
  // The tool had started listening before the emulator failed: its port is closed again.
  const probe: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(toolPort, '127.0.0.1', () => resolve());
  });
  probe.close();
});
