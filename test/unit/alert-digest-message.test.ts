import { digestContent, digestMessage, isEmptyDigest } from '../../src/domain/alert-digest-message';
import type { AttendanceSession } from '../../src/domain/types';
import { sessionFixture } from '../support/session-fixture';

// 15 January 2026 in Santiago (UTC−3 in summer).
const T0 = new Date('2026-01-15T11:00:00Z'); // 08:00 in Santiago
const min = (m: number): Date => new Date(T0.getTime() + m * 60_000);

const session = (sub: string, minute: number, over: Partial<AttendanceSession> = {}): AttendanceSession =>
  sessionFixture(sub, min(minute), { state: 'start-failed', endedAt: min(minute), ...over });
const failed = (sub: string, minute: number, codes: string[]) => session(sub, minute, { lastErrorCodes: codes });
const closed = (sub: string, minute: number) => session(sub, minute, { state: 'closed', openedAt: min(minute), endedAt: min(minute + 60), idSesionSence: 'S' });
const NAMES: Record<string, string> = { ana: 'Ana Pérez', beto: 'Beto Soto' };
const names = (sub: string) => NAMES[sub] ?? sub;

describe('digestContent: what the daily digest tells', () => {
  it('open alerts, and staff errors since the last digest that are already resolved', () => {
    const sessions = [failed('ana', 0, ['211']), failed('beto', 10, ['208']), closed('beto', 20)];
    const c = digestContent(sessions, null);
    expect(c.open.map((a) => [a.code, a.subs])).toEqual([['211', ['ana']]]);
    expect(c.resolved).toEqual([{ code: '208', sub: 'beto', at: min(10) }]);
    expect(isEmptyDigest(c)).toBe(false);
  });

  it('leaves out what happened before the last digest (at or before it)', () => {
    const sessions = [failed('beto', 10, ['208']), closed('beto', 20)];
    expect(digestContent(sessions, min(10)).resolved).toEqual([]);
    expect(digestContent(sessions, min(9)).resolved).toHaveLength(1);
  });

  it('an open alert is not also reported as resolved, and errors learners fix themselves are not reported', () => {
    const c = digestContent([failed('ana', 0, ['211']), failed('ana', 5, ['211', '207'])], null);
    expect(c.resolved).toEqual([]);
    expect(c.open.map((a) => a.code)).toEqual(['211']);
  });

  it('is empty when there is nothing to tell', () => {
    const c = digestContent([closed('ana', 0), failed('beto', 0, ['207'])], null);
    expect(c).toEqual({ open: [], resolved: [] });
    expect(isEmptyDigest(c)).toBe(true);
  });
});

describe('digestMessage: the Spanish e-mail', () => {
  it('with open alerts: subject with counts, each alert with what to do, who, and when', () => {
    const c = digestContent([failed('ana', 0, ['211']), failed('beto', 30, ['211']), failed('ana', -60, ['204'])], null);
    const m = digestMessage(c, { courseTitle: 'Excel intermedio', names, now: min(5) });
    // Ana's newest session (211) is the one that counts for her: 204 is no longer open.
    expect(m.subject).toBe('Asistencia SENCE: 1 error(es) por resolver en «Excel intermedio» (2 estudiante(s))');
    expect(m.text).toBe(
      [
        'Resumen diario de Asistencia SENCE — Excel intermedio',
        'Generado el 15-01-2026 08:05 (hora de Santiago).',
        '',
        'Errores de SENCE que solo el equipo del curso puede corregir:',
        '',
        '• Error 211: La credencial de la OTEC configurada para este curso no corresponde.',
        '  Qué hacer: El Token no pertenece al RutOtec enviado: cada OTEC debe usar su propio token (revise qué OTEC tiene asignada el curso).',
        '  Estudiantes afectados (2): Ana Pérez, Beto Soto',
        '  Última vez: 15-01-2026 08:30',
        '',
        'Errores ocurridos desde el último resumen que ya se resolvieron:',
        '',
        '• Error 204 (El código SENCE configurado para este curso no es válido.) — Ana Pérez, 15-01-2026 07:00',
        '',
        'Para ver el detalle, entre a la herramienta Asistencia SENCE desde el curso en el LMS con su rol docente y abra «Reporte del curso».',
        'Este correo se envía una vez al día mientras haya errores por resolver.',
      ].join('\n'),
    );
  });

  it('with only resolved errors, and a course without a title', () => {
    const c = digestContent([failed('beto', 10, ['208']), closed('beto', 20)], null);
    const m = digestMessage(c, { courseTitle: null, names, now: min(0) });
    expect(m.subject).toBe('Asistencia SENCE: errores ya resueltos en «su curso»');
    expect(m.text).toContain('Resumen diario de Asistencia SENCE — su curso');
    expect(m.text).not.toContain('solo el equipo del curso puede corregir');
    expect(m.text).toContain('• Error 208 (Tu RUN no está autorizado en SENCE para este curso.) — Beto Soto, 15-01-2026 08:10');
  });
});
