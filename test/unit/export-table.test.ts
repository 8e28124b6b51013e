import type { ReportRow } from '../../src/domain/course-report';
import { neutralizeFormula, reportTable, sessionsTable } from '../../src/domain/export-table';
import { describeSenceError } from '../../src/domain/sence-error-catalogue';
import type { AttendanceSession } from '../../src/domain/types';
import { sessionFixture } from '../support/session-fixture';

const T0 = new Date('2026-01-15T12:00:00Z');
const min = (m: number): Date => new Date(T0.getTime() + m * 60_000);

const session = (id: string, createdMinute: number, over: Partial<AttendanceSession> = {}): AttendanceSession =>
  sessionFixture('ana', min(createdMinute), {
    id,
    idSesionAlumno: `alumno-${id}`,
    state: 'closed',
    idSesionSence: `SENCE-${id}`,
    openedAt: min(createdMinute + 1),
    endedAt: min(createdMinute + 66),
    accreditedSeconds: 65 * 60 + 30,
    version: 3,
    ...over,
  });

function row(over: Partial<ReportRow> = {}): ReportRow {
  return {
    sub: 'ana',
    name: 'Ana Pérez',
    email: 'ana@example.cl',
    run: '12345678-5',
    runFix: null,
    action: { codigoCurso: 'ACCION-BASE-01', codSence: '1237654321', lineaCapacitacion: 3 },
    actionSource: 'course',
    exempt: false,
    accreditedSeconds: 65 * 60 + 30,
    percent: 27,
    accessMark: true,
    sessionCount: 2,
    closedCount: 1,
    lastSessionAt: min(100),
    lastError: describeSenceError('211'),
    status: 'al-dia',
    inRoster: true,
    launched: true,
    sessions: [],
    ...over,
  };
}

describe('reportTable: one row per learner, the columns SENCE declarations use', () => {
  it('has the header staff read', () => {
    expect(reportTable([]).header).toEqual(['RUN', 'Nombre', 'CodigoCurso', 'CodSence', 'LineaCapacitacion', 'Estado', 'Horas acreditadas', 'Tiempo acreditado (h:mm:ss)', '% horas requeridas', 'Marca de acceso', 'Sesiones', 'Sesiones cerradas', 'Última sesión (hora de Santiago)', 'Último error SENCE', 'Correo']);
    expect(reportTable([]).name).toBe('Reporte');
  });

  it('a learner with time, an access mark and a last error', () => {
    expect(reportTable([row()]).rows[0]).toEqual([
      { kind: 'text', value: '12345678-5' },
      { kind: 'text', value: 'Ana Pérez' },
      { kind: 'text', value: 'ACCION-BASE-01' },
      { kind: 'text', value: '1237654321' },
      { kind: 'text', value: '3' },
      { kind: 'text', value: 'con marca de acceso' },
      { kind: 'number', value: 1.09, decimals: 2 },
      { kind: 'text', value: '1:05:30' },
      { kind: 'number', value: 27, decimals: 0 },
      { kind: 'text', value: 'Sí' },
      { kind: 'number', value: 2, decimals: 0 },
      { kind: 'number', value: 1, decimals: 0 },
      { kind: 'datetime', value: min(100) },
      { kind: 'text', value: '211: La credencial de la OTEC configurada para este curso no corresponde.' },
      { kind: 'text', value: 'ana@example.cl' },
    ]);
  });

  it('an exempt learner without RUN, action, mark, error or e-mail', () => {
    const cells = reportTable([row({ run: null, exempt: true, accessMark: false, lastError: null, email: null, status: 'exento', lastSessionAt: null })]).rows[0]!;
    expect(cells.map((c) => c.value)).toEqual(['sin RUN', 'Ana Pérez', 'exento', '', '', 'exento', 1.09, '1:05:30', 27, 'No', 2, 1, null, '', '']);
  });

  it('a learner with no action (course not configured) leaves the action columns blank', () => {
    const cells = reportTable([row({ action: null, actionSource: null })]).rows[0]!;
    expect(cells.slice(2, 5).map((c) => c.value)).toEqual(['', '', '']);
  });
});

describe('sessionsTable: one row per SENCE session, newest first', () => {
  it('has the header staff read', () => {
    expect(sessionsTable([]).header).toEqual(['RUN', 'Nombre', 'CodigoCurso', 'CodSence', 'LineaCapacitacion', 'Inicio (hora de Santiago)', 'Cierre (hora de Santiago)', 'Duración (h:mm:ss)', 'Duración (minutos)', 'IdSesionSence', 'IdSesionAlumno', 'Estado', 'Errores SENCE', 'Ambiente']);
    expect(sessionsTable([]).name).toBe('Sesiones');
  });

  it('what was sent to SENCE, the times, the duration and SENCE\'s answer', () => {
    const t = sessionsTable([row({ sessions: [session('1', 0)] })]);
    expect(t.rows[0]!.map((c) => c.value)).toEqual(['12345678-5', 'Ana Pérez', 'ACCION-BASE-01', '1237654321', '3', min(1), min(66), '1:05:30', 65, 'SENCE-1', 'alumno-1', 'cerrada', '', 'producción']);
  });

  it('a session SENCE never opened has no start or close time, and lists its error codes', () => {
    const failed = session('2', 0, { state: 'start-failed', openedAt: null, endedAt: min(2), idSesionSence: null, accreditedSeconds: 0, lastErrorCodes: ['211', '204'], environment: 'test' });
    expect(sessionsTable([row({ sessions: [failed] })]).rows[0]!.map((c) => c.value)).toEqual(['12345678-5', 'Ana Pérez', 'ACCION-BASE-01', '1237654321', '3', null, null, '0:00:00', 0, '', 'alumno-2', 'inicio con error', '211, 204', 'pruebas']);
  });

  it('every session state in Spanish', () => {
    const states: Array<[AttendanceSession['state'], string]> = [
      ['starting', 'iniciando'],
      ['open', 'abierta'],
      ['closing', 'cerrando'],
      ['closed', 'cerrada'],
      ['start-failed', 'inicio con error'],
      ['abandoned', 'inicio abandonado'],
      ['expired', 'vencida'],
      ['ended-by-sence', 'terminada por SENCE'],
    ];
    for (const [state, label] of states) expect(sessionsTable([row({ sessions: [session('x', 0, { state })] })]).rows[0]![11]!.value).toBe(label);
  });

  it('sessions of every learner, newest first; whole minutes rounded down', () => {
    const ana = row({ sessions: [session('a-old', 0), session('a-new', 300, { accreditedSeconds: 59 })] });
    const beto = row({ sub: 'beto', name: 'Beto Soto', sessions: [session('b', 100)] });
    const t = sessionsTable([ana, beto]);
    expect(t.rows.map((r) => r[9]!.value)).toEqual(['SENCE-a-new', 'SENCE-b', 'SENCE-a-old']);
    expect(t.rows.map((r) => r[1]!.value)).toEqual(['Ana Pérez', 'Beto Soto', 'Ana Pérez']);
    expect(t.rows[0]![8]!.value).toBe(0);
  });
});

describe('neutralizeFormula', () => {
  it('leaves ordinary text alone', () => {
    expect(neutralizeFormula('Ana Pérez')).toBe('Ana Pérez');
    expect(neutralizeFormula('12345678-5')).toBe('12345678-5');
    expect(neutralizeFormula('')).toBe('');
    expect(neutralizeFormula('Ana\tPérez')).toBe('Ana\tPérez');
    expect(neutralizeFormula('ACCION-01-2')).toBe('ACCION-01-2');
  });

  it('a leading tab, carriage return or newline is neutralised too', () => {
    expect(neutralizeFormula('\tx')).toBe("'\tx");
    expect(neutralizeFormula('\rx')).toBe("'\rx");
    expect(neutralizeFormula('\nx')).toBe("'\nx");
    expect(neutralizeFormula('  =1+1')).toBe("'  =1+1");
  });
});
