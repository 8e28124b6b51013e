import { openStaffAlerts, STAFF_ALERT_CODES } from '../../src/domain/staff-alerts';
import type { AttendanceSession, SessionState } from '../../src/domain/types';
import { sessionFixture } from '../support/session-fixture';

const T0 = new Date('2026-11-22T13:00:00Z');
const min = (m: number): Date => new Date(T0.getTime() + m * 60_000);

const session = (sub: string, createdMinute: number, over: Partial<AttendanceSession> = {}): AttendanceSession => sessionFixture(sub, min(createdMinute), over);

const failed = (sub: string, minute: number, codes: string[], endedMinute = minute + 1): AttendanceSession =>
  session(sub, minute, { state: 'start-failed', lastErrorCodes: codes, endedAt: min(endedMinute) });
const accepted = (sub: string, minute: number, state: SessionState = 'closed'): AttendanceSession =>
  session(sub, minute, { state, openedAt: min(minute + 1), endedAt: state === 'closed' ? min(minute + 60) : null, idSesionSence: 'S' });

describe('openStaffAlerts: SENCE errors only staff can fix, per code, until the learner gets through', () => {
  it('lists exactly the codes staff must act on', () => {
    expect([...STAFF_ALERT_CODES]).toEqual(['204', '205', '206', '208', '211', '212', '303', '309', '310']);
  });

  it('raises an alert with the text staff read and who is affected', () => {
    const alerts = openStaffAlerts([failed('ana', 0, ['211'])]);
    expect(alerts).toEqual([
      {
        code: '211',
        description: 'La credencial de la OTEC configurada para este curso no corresponde.',
        staffHint: 'El Token no pertenece al RutOtec enviado: cada OTEC debe usar su propio token (revise qué OTEC tiene asignada el curso).',
        subs: ['ana'],
        firstAt: min(1),
        lastAt: min(1),
      },
    ]);
  });

  it('ignores errors the learner can fix (wrong RUN 207, ClaveÚnica), and sessions without errors', () => {
    expect(openStaffAlerts([failed('ana', 0, ['207']), failed('beto', 0, ['100']), session('camila', 0)])).toEqual([]);
  });

  it('keeps only the staff codes of a mixed answer', () => {
    expect(openStaffAlerts([failed('ana', 0, ['207', '204'])]).map((a) => a.code)).toEqual(['204']);
  });

  it('closes the alert once a later session of the learner was accepted and closed', () => {
    expect(openStaffAlerts([failed('ana', 0, ['208']), accepted('ana', 10)])).toEqual([]);
  });

  it('keeps the alert when the accepted session came before the failure', () => {
    expect(openStaffAlerts([accepted('ana', 0), failed('ana', 100, ['208'])]).map((a) => a.code)).toEqual(['208']);
  });

  it('an open session (accepted at start) also resolves an older failure', () => {
    expect(openStaffAlerts([failed('ana', 0, ['204']), accepted('ana', 10, 'open')])).toEqual([]);
  });

  it('a close that failed with a staff code after the session was accepted stays an alert', () => {
    const closeFailed = session('ana', 10, { state: 'open', openedAt: min(11), lastErrorCodes: ['211'], idSesionSence: 'S' });
    expect(openStaffAlerts([closeFailed]).map((a) => a.code)).toEqual(['211']);
  });

  it('a later session still waiting for SENCE (no answer yet) does not hide the failure', () => {
    expect(openStaffAlerts([failed('ana', 0, ['205']), session('ana', 10)]).map((a) => a.code)).toEqual(['205']);
  });

  it('counts each learner once per code and spans the first and last occurrence', () => {
    const alerts = openStaffAlerts([failed('ana', 0, ['211']), failed('beto', 30, ['211']), failed('ana', 5, ['211'])]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subs.sort()).toEqual(['ana', 'beto']);
    // Ana's newest failure (minute 5, ended 6) is the one that counts for her.
    expect(alerts[0]!.firstAt).toEqual(min(6));
    expect(alerts[0]!.lastAt).toEqual(min(31));
  });

  it('first and last occurrence do not depend on which learner comes first', () => {
    const [alert] = openStaffAlerts([failed('beto', 30, ['211']), failed('ana', 0, ['211']), failed('camila', 10, ['211'])]);
    expect(alert!.firstAt).toEqual(min(1));
    expect(alert!.lastAt).toEqual(min(31));
  });

  it('a code repeated in one answer counts the learner once', () => {
    expect(openStaffAlerts([failed('ana', 0, ['211', '211'])])[0]!.subs).toEqual(['ana']);
  });

  it('uses the creation time when a failed session has no end time', () => {
    const alerts = openStaffAlerts([session('ana', 7, { state: 'start-failed', lastErrorCodes: ['206'] })]);
    expect(alerts[0]!.lastAt).toEqual(min(7));
  });

  it('puts the most recent alert first', () => {
    const alerts = openStaffAlerts([failed('ana', 0, ['204']), failed('beto', 50, ['309']), failed('camila', 20, ['303'])]);
    expect(alerts.map((a) => a.code)).toEqual(['309', '303', '204']);
  });

  it('does not depend on the order sessions are given in', () => {
    const list = [failed('ana', 0, ['208']), accepted('ana', 10), failed('beto', 5, ['212'])];
    expect(openStaffAlerts([...list].reverse())).toEqual(openStaffAlerts(list));
    expect(openStaffAlerts(list).map((a) => a.code)).toEqual(['212']);
  });
});
