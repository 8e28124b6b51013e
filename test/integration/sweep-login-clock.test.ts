/**
 * The sweep and a login in flight (found by the browser journeys, 2026-11-30): the attendance clock
 * can run ahead of real time (tests of long sessions move it), while login states are written with
 * the LTI runtime's clock (real time, as the LMS's id_token is checked). A sweep judging their
 * expiry by the attendance clock deleted a login the learner was finishing ("state unknown, expired
 * or already used"). Its own file: ltijs is set up once per Jest file.
 */
import { startTestSystem, type TestSystem } from '../support/test-system';
import { authorize } from '../support/lti-flow';
describe('the sweep and the login in flight, with the attendance clock ahead of real time', () => {
  let sys: TestSystem;
  const AHEAD_MS = 4 * 3_600_000;

  beforeAll(async () => {
    sys = await startTestSystem({}, { now: () => new Date(Date.now() + AHEAD_MS) });
  });

  afterAll(async () => {
    await sys?.stop();
  });

  it('a sweep between the login and the launch keeps the login: the launch opens the panel', async () => {
    const { client, post } = await authorize(sys, 'ana');
    const result = await sys.sweeper.runNow();
    expect(result.failed).toEqual({});
    expect(result.removed.logins).toBe(0);
    const panel = await client.submit(post);
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('TIEMPO ACREDITADO EN SENCE');
  });
});
