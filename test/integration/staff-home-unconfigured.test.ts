/** Issue #9, item 8: the staff home of a course with no SENCE settings says what is missing. (ltijs is one per process: own file.) */
import { launchAs } from '../support/lti-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { decodeEntities } from '../support/http-client';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({}, { seedDemo: false, rosterTimeoutMs: 1500 });
});
afterAll(async () => {
  await sys?.stop();
});

it('says what is missing when the course is not configured, and still counts the roster', async () => {
  const home = await launchAs(sys, 'diego');
  const text = decodeEntities(home.panel.text);
  expect(home.panel.status).toBe(200);
  expect(text).toContain('Falta configurar SENCE en este curso.');
  expect(text).toContain('Elegir el OTEC, la línea de capacitación, los códigos SENCE (CodSence y CodigoCurso) y las horas requeridas.');
  expect(text).toContain('<a class="btn btn-primary" id="setup-link" href="/lti/staff">Configurar el curso</a>');
  expect(text).toMatch(/id="home-sin-marca"[^>]*><strong>2<\/strong>/); // camila and elena (RUN from the roster's idnumber)
  // bruno (no RUN anywhere) and ana: her RUN comes only in the launch's custom parameter, and she has not launched yet.
  expect(text).toMatch(/id="home-sin-run"[^>]*><strong>2<\/strong>/);
});
