/** The benchmark's simulated learners (shared by the system's and the simulator's child processes). */
import { computeCheckDigit } from '../src/domain/rut';
import type { SimUser } from '../src/simulators/lms';

/** 12345678 → "12.345.678" */
function dotted(body: string): string {
  return body.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
}

/**
 * `count` learners with valid RUNs (mod-11 check digit), the way a real course spreads them:
 * two thirds send the RUN in the custom parameter `rut` (dotted), one third only as Moodle's
 * idnumber (lis.person_sourcedid, plain).
 */
export function benchLearners(count: number): SimUser[] {
  const users: SimUser[] = [];
  for (let i = 0; i < count; i += 1) {
    const body = String(10_000_000 + i * 7_919);
    const run = `${body}-${computeCheckDigit(body)}`;
    const viaCustom = i % 3 !== 2;
    users.push({
      id: `alumno-${String(i).padStart(5, '0')}`,
      name: `Alumno ${i} Prueba`,
      givenName: `Alumno ${i}`,
      familyName: 'Prueba',
      email: `alumno${i}@example.com`,
      role: 'learner',
      customRut: viaCustom ? `${dotted(body)}-${run.slice(-1)}` : null,
      sourcedId: viaCustom ? '' : run,
    });
  }
  return users;
}

export function learnerCount(): number {
  return Number(process.env.BENCH_LEARNERS ?? 2000);
}
