/**
 * An attendance session as the stores hold it, for tests of pure code that reads sessions (alerts,
 * digests, reports, exports): a started session of learner `sub` in one course; `over` sets the rest.
 */
import type { AttendanceSession } from '../../src/domain/types';

let seq = 0;

export function sessionFixture(sub: string, createdAt: Date, over: Partial<AttendanceSession> = {}): AttendanceSession {
  seq += 1;
  const id = over.id ?? `s-${seq}`;
  return {
    id,
    learner: { issuer: 'https://lms.example', clientId: 'c1', sub },
    course: { issuer: 'https://lms.example', clientId: 'c1', contextId: 'ctx1' },
    otecId: 'otec-1',
    environment: 'production',
    idSesionAlumno: `AS-${id}`,
    sent: { RutOtec: '76123456-0', CodSence: '1237654321', CodigoCurso: 'ACCION-BASE-01', LineaCapacitacion: '3', RunAlumno: '12345678-5', IdSesionAlumno: `AS-${id}` },
    state: 'starting',
    limitMinutes: 180,
    warningMinutes: 10,
    idSesionSence: null,
    senceStartFechaHora: null,
    senceZonaHoraria: null,
    createdAt,
    openedAt: null,
    closeRequestedAt: null,
    endedAt: null,
    accreditedSeconds: 0,
    lastErrorCodes: [],
    endReason: null,
    version: 1,
    ...over,
  };
}
