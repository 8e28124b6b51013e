/**
 * FAULT_INJECTION=crash (tests only; loadConfig refuses it in production): POST /fault-injection/crash
 * answers 202 and then throws inside a setImmediate — a true uncaught exception, outside any request
 * handler, parser or promise, like a bug nobody foresaw. The supervision test (issue #19 §1) sends it
 * 10 times a second and checks that the service keeps answering: see src/cluster/.
 */
import type { Express } from 'express';

export const FAULT_INJECTION_PATH = '/fault-injection/crash';

export function mountFaultInjection(app: Express): void {
  app.post(FAULT_INJECTION_PATH, (_req, res) => {
    res.status(202).type('text').send('Se lanzará una excepción no capturada (FAULT_INJECTION=crash).');
    setImmediate(() => {
      throw new Error('fault injection: uncaught exception (FAULT_INJECTION=crash)');
    });
  });
}
