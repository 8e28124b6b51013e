/** Issue #9: the report's statuses and filters, staff alerts, the NRPS Link header, and the Spanish labels (pure). */
import { buildCourseReport, filterReport, pageReport, parseReportQuery, REPORT_PAGE_SIZE, type ReportRow } from '../../src/domain/course-report';
import { openStaffAlerts } from '../../src/domain/staff-alerts';
import { neutralizeFormula } from '../../src/domain/export-table';
import { nextLink } from '../../src/lti/nrps-roster-source';
import { describeAuditReason, EVENT_LABELS, eventLabel } from '../../src/web/event-labels';
import type { AttendanceSession, CourseSettings, Learner } from '../../src/domain/types';

const course = { issuer: 'i', clientId: 'c', contextId: 'x' };
const settings: CourseSettings = { otecId: 'o', lineaCapacitacion: 3, codSence: '1234567890', codigoCurso: 'CURSO-BASE-01', requiredHours: 2, environment: 'test', sessionLimitMinutes: 180, warningMinutes: 10 };
const LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';
const member = (userId: string, name: string, sourcedId: string | null = null, roles = [LEARNER]) => ({ userId, name, email: null, sourcedId, roles, active: true });
let n = 0;
function session(sub: string, over: Partial<AttendanceSession>): AttendanceSession {
  n += 1;
  return {
    id: `s${n}`, learner: { issuer: 'i', clientId: 'c', sub }, course, otecId: 'o', environment: 'test', idSesionAlumno: `a${n}`,
    sent: { RutOtec: '76000000-0', CodSence: '1234567890', CodigoCurso: 'CURSO-BASE-01', LineaCapacitacion: '3', RunAlumno: '12345678-5', IdSesionAlumno: `a${n}` },
    state: 'closed', limitMinutes: 180, warningMinutes: 10, idSesionSence: null, senceStartFechaHora: null, senceZonaHoraria: null,
    createdAt: new Date(Date.UTC(2026, 0, 1, 10, n)), openedAt: null, closeRequestedAt: null, endedAt: null, accreditedSeconds: 0, lastErrorCodes: [], endReason: null, version: 1, ...over,
  };
}
const learner = (sub: string, run: string | null): Learner => ({ issuer: 'i', clientId: 'c', sub, name: sub, email: null, run, runSource: run ? 'custom' : null, updatedAt: new Date(0) });

describe('buildCourseReport', () => {
  const t = (m: number) => new Date(Date.UTC(2026, 0, 1, 11, m));
  // Built inside each test (not when the file is read), so that mutation testing credits the tests that check it.
  const build = () => buildCourseReport({
    roster: [member('a', 'Ana'), member('b', 'Bruno'), member('c', 'Camila', '9876543-3'), member('d', 'Diego', null, ['http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor']), member('e', 'Elena', '15432987-0'), member('f', 'Fabián', '12345678-4'), member('g', 'Gloria', '11111111-1')],
    learners: new Map([['a', learner('a', '12345678-5')], ['g', learner('g', '11111111-1')]]),
    sessions: [
      session('a', { state: 'closed', openedAt: t(0), endedAt: t(60), accreditedSeconds: 3600 }),
      session('c', { state: 'open', openedAt: t(0) }),
      session('e', { state: 'start-failed', lastErrorCodes: ['208'], endedAt: t(1) }),
      session('g', { state: 'closed', openedAt: t(0), endedAt: t(30), accreditedSeconds: 1800, createdAt: t(0) }),
      session('g', { state: 'start-failed', lastErrorCodes: ['211'], endedAt: t(40), createdAt: t(39) }),
    ],
    enrollments: [
      { course, sub: 'b', run: null, action: null, exempt: true, updatedAt: new Date(0) },
      // A mark left on an instructor does not make them a learner of the report.
      { course, sub: 'd', run: null, action: null, exempt: true, updatedAt: new Date(0) },
    ],
    settings,
  });

  it('gives each learner one status, first that applies, and leaves staff out', () => {
    const report = build();
    const bySub = Object.fromEntries(report.rows.map((r) => [r.sub, r]));
    expect(report.rosterAvailable).toBe(true);
    expect(bySub.a).toMatchObject({ inRoster: true, launched: true, lastError: null, lastSessionAt: t(60) });
    expect(bySub.c).toMatchObject({ inRoster: true, launched: false, lastSessionAt: t(0) });
    expect(bySub.g).toMatchObject({ sessionCount: 2, closedCount: 1, accreditedSeconds: 1800 });
    expect(Object.fromEntries(report.rows.map((r) => [r.sub, r.status]))).toEqual({ a: 'al-dia', b: 'exento', c: 'sesion-abierta', e: 'con-error', f: 'sin-run', g: 'con-error' });
    expect(report.counts).toEqual({ 'con-error': 2, 'sin-run': 1, 'sesion-abierta': 1, 'sin-marca': 0, 'al-dia': 1, exento: 1 });
    expect(bySub.a).toMatchObject({ percent: 50, accessMark: true, run: '12345678-5', closedCount: 1, sessionCount: 1, actionSource: 'course' });
    // Gloria launched with the RUN of her ID number from `rut`: this course's rut is the ID number (issue #20).
    expect(bySub.f?.runFix).toBe('No tiene ingresos registrados en la herramienta. En la lista de participantes del LMS, su «Número de ID» (en Canvas, SIS ID) («12345678-4») tiene un dígito verificador que no coincide: corrija el RUN del usuario en el LMS (sin puntos, con guion y dígito verificador, por ejemplo 12345678-5).');
    expect(bySub.e?.lastError?.code).toBe('208');
    expect(bySub.g?.lastError?.code).toBe('211');
  });

  it('filters by status, action and name/RUN (accents and dots ignored), sorts', () => {
    const report = build();
    const q = (o: Record<string, string>) => filterReport(report.rows, parseReportQuery(o)).map((r) => r.sub);
    expect(q({ estado: 'con-error' })).toEqual(['e', 'g']);
    expect(q({ q: 'fabian' })).toEqual(['f']);
    expect(q({ q: '9.876.543' })).toEqual(['c']);
    expect(q({ accion: 'CURSO-BASE-01', estado: 'al-dia' })).toEqual(['a']);
    expect(q({ orden: 'avance' })[0]).toBe('a');
    expect(q({ estado: 'nada', orden: 'x' })).toHaveLength(6);
  });
});

describe('openStaffAlerts', () => {
  it('keeps an alert open until a later session is accepted by SENCE', () => {
    const failed = session('x', { state: 'start-failed', lastErrorCodes: ['211', '999'], createdAt: new Date(1000), endedAt: new Date(2000) });
    expect(openStaffAlerts([failed]).map((a) => [a.code, a.subs])).toEqual([['211', ['x']]]);
    const later = session('x', { state: 'closed', openedAt: new Date(4000), endedAt: new Date(5000), createdAt: new Date(3000) });
    expect(openStaffAlerts([failed, later])).toEqual([]);
    const notStaff = session('y', { state: 'start-failed', lastErrorCodes: ['207'] });
    expect(openStaffAlerts([notStaff])).toEqual([]);
  });
});

describe('helpers', () => {
  it('nextLink finds rel="next" among several links', () => {
    expect(nextLink('<https://lms/x?page=2>; rel="next", <https://lms/x?page=9>; rel="last"')).toBe('https://lms/x?page=2');
    expect(nextLink('<https://lms/x?page=1>; rel="prev"')).toBeNull();
    expect(nextLink(null)).toBeNull();
  });

  it('neutralizeFormula covers =, +, -, @, leading spaces/newlines, tab and CR', () => {
    for (const v of ['=1+1', '+1', '-1', '@x', '  =x', '\n=x', '\tx', '\rx']) expect(neutralizeFormula(v)).toBe(`'${v}`);
    for (const v of ['12345678-5', 'Ana', '', '1-2']) expect(neutralizeFormula(v)).toBe(v);
  });

  it('every audit event has a Spanish label, and recorded English reasons read in Spanish', () => {
    expect(Object.keys(EVENT_LABELS)).toHaveLength(19);
    expect(eventLabel('something-new')).toBe('Otro evento');
    expect(describeAuditReason({ event: 'callback-accepted', reason: 'start error 211;204', details: {} })).toBe('inicio con error (códigos 211, 204)');
    expect(describeAuditReason({ event: 'callback-accepted', reason: 'close success', details: {} })).toBe('cierre aceptado');
    expect(describeAuditReason({ event: 'callback-rejected', reason: 'run-alumno: mismatch', details: { step: 'run-alumno' } })).toBe('rechazada: RunAlumno no coincide');
    expect(describeAuditReason({ event: 'access-denied', reason: 'learner tried GET /lti/staff', details: {} })).toBe('un estudiante intentó abrir una página del equipo docente');
  });
});

describe('parseReportQuery and filterReport: the report page\'s filters and sorts', () => {
  const row = (sub: string, name: string, over: Partial<ReportRow> = {}): ReportRow => ({
    sub, name, email: null, run: null, runFix: null, action: null, actionSource: null, exempt: false, accreditedSeconds: 0, percent: 0, accessMark: false,
    sessionCount: 0, closedCount: 0, lastSessionAt: null, lastError: null, status: 'sin-marca', inRoster: true, launched: true, sessions: [], ...over,
  });
  const action = (codigoCurso: string) => ({ codigoCurso, codSence: '1234567890', lineaCapacitacion: 3 as const });
  // In no sort's order, so each sort has to move them.
  const rows: ReportRow[] = [
    row('z', 'Zoe Ruiz', { status: 'sin-run' }),
    row('ñ', 'Ñuño Pérez', { status: 'con-error', accreditedSeconds: 600, run: '9876543-3', action: action('ACCION-B'), lastSessionAt: new Date(3000) }),
    row('o', 'Óscar Díaz', { status: 'al-dia', accreditedSeconds: 3600, run: '10000013-K', action: action('ACCION-B'), lastSessionAt: new Date(3000) }),
    row('n', 'Nora Soto', { status: 'con-error', accreditedSeconds: 600, run: '12345678-5', action: action('ACCION-A'), lastSessionAt: new Date(1000) }),
  ];
  const subs = (query: Partial<ReturnType<typeof parseReportQuery>>) => filterReport(rows, { ...parseReportQuery({}), ...query }).map((r) => r.sub);

  it('reads the query string, with defaults for anything missing or unknown', () => {
    expect(parseReportQuery({})).toEqual({ status: null, codigoCurso: null, search: '', sort: 'nombre', page: 1 });
    expect(parseReportQuery({ estado: 'al-dia', accion: '  ACCION-A  ', q: '  ana ', orden: 'avance' })).toEqual({ status: 'al-dia', codigoCurso: 'ACCION-A', search: 'ana', sort: 'avance', page: 1 });
    expect(parseReportQuery({ estado: ['con-error', 'al-dia'], orden: ['ultima'] })).toMatchObject({ status: 'con-error', sort: 'ultima' });
    expect(parseReportQuery({ estado: [7], accion: { a: 1 }, q: 5, orden: 'x' })).toEqual({ status: null, codigoCurso: null, search: '', sort: 'nombre', page: 1 });
    // Issue #19: the page (pagina), a whole number from 1; anything else is page 1.
    expect(parseReportQuery({ pagina: '3' }).page).toBe(3);
    for (const bad of ['0', '-1', 'x', '1.5', '1234567', '']) expect([bad, parseReportQuery({ pagina: bad }).page]).toEqual([bad, 1]);
    expect(parseReportQuery({ estado: '', accion: [7], q: [null] })).toEqual({ status: null, codigoCurso: null, search: '', sort: 'nombre', page: 1 });
    expect(parseReportQuery({ accion: 'A'.repeat(70), q: 'b'.repeat(120) })).toMatchObject({ codigoCurso: 'A'.repeat(60), search: 'b'.repeat(100) });
    expect(parseReportQuery({ accion: '   ' }).codigoCurso).toBeNull();
    for (const sort of ['nombre', 'estado', 'avance', 'accion', 'ultima']) expect(parseReportQuery({ orden: sort }).sort).toBe(sort);
  });

  it('sorts by name in Spanish order (Ñ after N), by default', () => {
    expect(subs({})).toEqual(['n', 'ñ', 'o', 'z']);
  });

  it('sorts by status (errors first), by progress (most first), by action and by last session (newest first), ties by name', () => {
    expect(subs({ sort: 'estado' })).toEqual(['n', 'ñ', 'z', 'o']);
    expect(subs({ sort: 'avance' })).toEqual(['o', 'n', 'ñ', 'z']);
    expect(subs({ sort: 'accion' })).toEqual(['z', 'n', 'ñ', 'o']);
    expect(subs({ sort: 'ultima' })).toEqual(['ñ', 'o', 'n', 'z']);
  });

  it('filters by action (a learner without one never matches) and by status', () => {
    expect(subs({ codigoCurso: 'ACCION-B' })).toEqual(['ñ', 'o']);
    expect(subs({ status: 'con-error', codigoCurso: 'ACCION-B' })).toEqual(['ñ']);
  });

  it('searches names without accents or case, and RUNs with or without dots, any case of K', () => {
    expect(subs({ search: 'OSCAR' })).toEqual(['o']);
    expect(subs({ search: 'ñuño' })).toEqual(['ñ']);
    expect(subs({ search: '10.000.013-k' })).toEqual(['o']);
    expect(subs({ search: '9876' })).toEqual(['ñ']);
    // Only dots: no name has one, and an empty RUN needle matches nothing.
    expect(subs({ search: '.' })).toEqual([]);
  });
});

describe('buildCourseReport: sessions in progress, and a course not configured yet', () => {
  it('a session waiting for SENCE\'s close counts as open; without settings there is no action and no percent', () => {
    const report = buildCourseReport({
      roster: [member('a', 'Ana')],
      learners: new Map([['a', learner('a', '12345678-5')]]),
      sessions: [session('a', { state: 'closing', openedAt: new Date(0), closeRequestedAt: new Date(60_000), createdAt: new Date(0) })],
      enrollments: [],
      settings: null,
    });
    expect(report.rows[0]).toMatchObject({ status: 'sesion-abierta', action: null, actionSource: null, percent: 0, lastSessionAt: new Date(0) });
  });
});

describe('buildCourseReport without the LMS roster (Names and Roles unavailable)', () => {
  it('lists the learners the tool knows from their sessions and marks, named by their launch or their id', () => {
    const report = buildCourseReport({
      roster: null,
      learners: new Map([['a', { ...learner('a', '12345678-5'), name: 'Ana Pérez', email: 'ana@example.cl' }]]),
      sessions: [session('a', { state: 'closed', openedAt: new Date(0), endedAt: new Date(3600_000), accreditedSeconds: 3600 }), session('x', { state: 'start-failed', lastErrorCodes: [] })],
      enrollments: [{ course, sub: 'b', run: null, action: null, exempt: true, updatedAt: new Date(0) }],
      settings,
    });
    expect(report.rosterAvailable).toBe(false);
    expect(report.rows.map((r) => [r.sub, r.name, r.email, r.inRoster, r.launched, r.status])).toEqual([
      ['a', 'Ana Pérez', 'ana@example.cl', false, true, 'al-dia'],
      ['b', 'b', null, false, false, 'exento'],
      ['x', 'x', null, false, false, 'sin-marca'],
    ]);
    // The RUN a session was sent with stands in when nothing else gives one.
    expect(report.rows.find((r) => r.sub === 'x')?.run).toBe('12345678-5');
    // A session SENCE never answered dates from its creation.
    const x = report.rows.find((r) => r.sub === 'x')!;
    expect(x.lastSessionAt).toEqual(x.sessions[0]!.createdAt);
    expect(report.rows.find((r) => r.sub === 'b')?.runFix).toBe(
      'No tiene ingresos registrados en la herramienta. La lista de participantes del LMS no está disponible, así que no se pudo buscar su RUN en ella.',
    );
  });
});

describe('pageReport (issue #19): one page of the filtered rows, chips counting the search over all of them', () => {
  const make = (n: number, status: ReportRow['status'] = 'sin-marca'): ReportRow[] =>
    Array.from({ length: n }, (_, i) => ({ sub: `u${i}`, name: `Persona ${String(i).padStart(4, '0')}`, status } as unknown as ReportRow));

  it(`exactly ${REPORT_PAGE_SIZE} rows are one page; one more makes a second page of one row`, () => {
    expect(pageReport(make(REPORT_PAGE_SIZE), parseReportQuery({}))).toMatchObject({ page: 1, pageCount: 1, matching: REPORT_PAGE_SIZE });
    const over = make(REPORT_PAGE_SIZE + 1);
    expect(pageReport(over, parseReportQuery({})).rows).toHaveLength(REPORT_PAGE_SIZE);
    const second = pageReport(over, parseReportQuery({ pagina: '2' }));
    expect(second).toMatchObject({ page: 2, pageCount: 2, matching: REPORT_PAGE_SIZE + 1 });
    expect(second.rows.map((r) => r.sub)).toEqual([`u${REPORT_PAGE_SIZE}`]);
    // Past the last page: the last page.
    expect(pageReport(over, parseReportQuery({ pagina: '9' })).page).toBe(2);
    expect(pageReport([], parseReportQuery({}))).toMatchObject({ page: 1, pageCount: 1, matching: 0, rows: [] });
  });

  it('the chips count the search over every row whatever status is chosen; the table holds the status', () => {
    const rows = [...make(3, 'al-dia'), ...make(2, 'con-error').map((r, i) => ({ ...r, sub: `e${i}`, name: `Otra ${i}` }))];
    const p = pageReport(rows, parseReportQuery({ q: 'persona', estado: 'con-error' }));
    expect(p.searchTotal).toBe(3);
    expect(p.searchCounts['al-dia']).toBe(3);
    expect(p.searchCounts['con-error']).toBe(0);
    expect(p.rows).toEqual([]);
  });
});
