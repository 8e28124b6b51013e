/**
 * Issue #20 §1: the RUN of a learner who never opened the tool, read from the LMS's roster the way
 * the launch reads it — the username (`ext_user_username`, what rut=$User.username gives) then the
 * ID number (`lis_person_sourcedid`), the course's choice judged from the learners who launched —
 * and a hint that says what is actually missing.
 */
import { buildCourseReport } from '../../src/domain/course-report';
import { customParameterIsUsername, rosterRun, rosterRunFields, runFixText } from '../../src/domain/roster-run';
import { memberFromNrps, type RosterMember } from '../../src/domain/roster';
import type { Learner } from '../../src/domain/types';

const LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';
const member = (userId: string, username: string | null, sourcedId: string | null): RosterMember => ({ userId, name: userId, email: null, sourcedId, username, roles: [LEARNER], active: true });
const launched = (sub: string, run: string | null, runSource: Learner['runSource']): Learner => ({ issuer: 'i', clientId: 'c', sub, name: sub, email: null, run, runSource, updatedAt: new Date(0) });
const report = (roster: RosterMember[] | null, learners: Learner[] = []) =>
  buildCourseReport({ roster, learners: new Map(learners.map((l) => [l.sub, l])), sessions: [], enrollments: [], settings: null });
const row = (r: ReturnType<typeof report>, sub: string) => r.rows.find((x) => x.sub === sub)!;

describe('memberFromNrps keeps Moodle\'s ext_user_username', () => {
  it('as username, trimmed; absent or empty is null', () => {
    expect(memberFromNrps({ user_id: '7', ext_user_username: ' 15432987-0 ', roles: [LEARNER] })?.username).toBe('15432987-0');
    expect(memberFromNrps({ user_id: '7', roles: [LEARNER] })?.username).toBeNull();
    expect(memberFromNrps({ user_id: '7', ext_user_username: '', roles: [LEARNER] })?.username).toBeNull();
    expect(memberFromNrps({ user_id: '7', ext_user_username: 15432987, roles: [LEARNER] })?.username).toBeNull();
  });
});

describe('rosterRun: the sources in the launch\'s order', () => {
  it('the username first (rut=$User.username), then the ID number', () => {
    expect(rosterRun(member('e', '15432987-0', '9876543-3'), rosterRunFields(true))).toMatchObject({ run: '15432987-0', field: 'username' });
    expect(rosterRun(member('e', 'eMunoz', '9876543-3'), rosterRunFields(true))).toMatchObject({ run: '9876543-3', field: 'sourcedId' });
    expect(rosterRun(member('e', null, '9.876.543-3'), rosterRunFields(true))).toMatchObject({ run: '9876543-3', field: 'sourcedId' });
  });

  it('a course whose rut is not the username reads only the ID number', () => {
    expect(rosterRunFields(false)).toEqual(['sourcedId']);
    expect(rosterRun(member('e', '15432987-0', null), rosterRunFields(false))).toEqual({ run: null, field: null, candidates: [{ field: 'sourcedId', raw: null, problem: 'missing' }] });
  });

  it('no valid RUN: every field looked at, with what was wrong (missing, format, check digit)', () => {
    expect(rosterRun(member('e', 'emunoz', '15432987-1'), rosterRunFields(true))).toEqual({
      run: null, field: null,
      candidates: [{ field: 'username', raw: 'emunoz', problem: 'format' }, { field: 'sourcedId', raw: '15432987-1', problem: 'check-digit' }],
    });
    expect(rosterRun(member('e', null, null), rosterRunFields(true)).candidates.map((c) => c.problem)).toEqual(['missing', 'missing']);
  });
});

describe('customParameterIsUsername: the course\'s choice, from the learners who launched', () => {
  const m = member('a', '12345678-5', '9876543-3');
  it('no evidence: yes (the tool registers itself with rut=$User.username)', () => {
    expect(customParameterIsUsername([])).toBe(true);
    expect(customParameterIsUsername([{ learner: launched('a', null, null), member: m }])).toBe(true);
  });
  it('a RUN from rut equal to the username says yes; equal to the ID number says no', () => {
    expect(customParameterIsUsername([{ learner: launched('a', '12345678-5', 'custom'), member: m }])).toBe(true);
    expect(customParameterIsUsername([{ learner: launched('a', '9876543-3', 'custom'), member: m }])).toBe(false);
  });
  it('a RUN from lis.person_sourcedid while the username holds a valid RUN says no', () => {
    expect(customParameterIsUsername([{ learner: launched('a', '9876543-3', 'lis'), member: m }])).toBe(false);
    expect(customParameterIsUsername([{ learner: launched('a', '9876543-3', 'lis'), member: member('a', 'amartinez', '9876543-3') }])).toBe(true);
  });
  it('more yes than no wins; a tie is yes', () => {
    const yes = { learner: launched('a', '12345678-5', 'custom'), member: m };
    const no = { learner: launched('b', '9876543-3', 'custom'), member: { ...m, userId: 'b' } };
    expect(customParameterIsUsername([yes, no])).toBe(true);
    expect(customParameterIsUsername([yes, no, no])).toBe(false);
  });
});

describe('the report: a learner who never launched', () => {
  it('shows the RUN of the roster\'s username (Moodle with rut=$User.username), not "sin RUN"', () => {
    const r = report([member('elena', '15432987-0', null)]);
    expect(row(r, 'elena')).toMatchObject({ run: '15432987-0', runFix: null, status: 'sin-marca', launched: false });
  });

  it('follows the course\'s choice: where launches show rut is the ID number, the username is not read', () => {
    const roster = [member('ana', '12345678-5', '9876543-3'), member('elena', '15432987-0', null)];
    const r = report(roster, [launched('ana', '9876543-3', 'custom')]);
    expect(row(r, 'elena')).toMatchObject({ run: null, status: 'sin-run' });
    expect(row(r, 'elena').runFix).toBe('No tiene ingresos registrados en la herramienta. La lista de participantes del LMS no trae su «Número de ID» (en Canvas, SIS ID): complete el «Número de ID» del usuario en el LMS (o use su RUN como nombre de usuario).');
  });

  it('says the roster gives neither the username nor the ID number', () => {
    expect(row(report([member('elena', null, null)]), 'elena').runFix).toBe(
      'No tiene ingresos registrados en la herramienta. La lista de participantes del LMS no trae su nombre de usuario ni su «Número de ID» (en Canvas, SIS ID): complete el «Número de ID» del usuario en el LMS (o use su RUN como nombre de usuario). Moodle envía el nombre de usuario en la lista solo si la herramienta puede compartir el nombre de los participantes («Compartir el nombre del usuario con la herramienta»).',
    );
  });

  it('says which value is not a valid RUN, and why', () => {
    expect(row(report([member('elena', 'emunoz', '15432987-1')]), 'elena').runFix).toBe(
      'No tiene ingresos registrados en la herramienta. En la lista de participantes del LMS, su nombre de usuario («emunoz») no es un RUN válido y su «Número de ID» (en Canvas, SIS ID) («15432987-1») tiene un dígito verificador que no coincide: corrija el RUN del usuario en el LMS (sin puntos, con guion y dígito verificador, por ejemplo 12345678-5).',
    );
    expect(row(report([member('elena', 'emunoz', null)]), 'elena').runFix).toBe(
      'No tiene ingresos registrados en la herramienta. En la lista de participantes del LMS, su nombre de usuario («emunoz») no es un RUN válido y su «Número de ID» (en Canvas, SIS ID) viene vacío: corrija el RUN del usuario en el LMS (sin puntos, con guion y dígito verificador, por ejemplo 12345678-5).',
    );
  });

  it('a learner who launched with no valid RUN: the launch is named too', () => {
    const r = report([member('bruno', null, null)], [launched('bruno', null, null)]);
    expect(row(r, 'bruno').runFix).toMatch(/^Al entrar a la herramienta, el LMS no envió un RUN válido \(revise el parámetro personalizado rut\)\. La lista de participantes del LMS no trae su nombre de usuario ni/);
  });

  it('without the roster, or not in it, says so instead of blaming the LMS\'s fields', () => {
    expect(runFixText({ launched: false, rosterAvailable: false, roster: null })).toBe('No tiene ingresos registrados en la herramienta. La lista de participantes del LMS no está disponible, así que no se pudo buscar su RUN en ella.');
    expect(runFixText({ launched: true, rosterAvailable: true, roster: null })).toBe('Al entrar a la herramienta, el LMS no envió un RUN válido (revise el parámetro personalizado rut). No aparece en la lista de participantes del LMS.');
  });

  it('cuts a long value at 40 characters', () => {
    const fix = row(report([member('elena', 'x'.repeat(41), '15432987-0x')]), 'elena').runFix!;
    expect(fix).toContain(`(«${'x'.repeat(40)}…»)`);
    expect(row(report([member('elena', 'y'.repeat(40), '15432987-0x')]), 'elena').runFix).toContain(`(«${'y'.repeat(40)}»)`);
  });
});
