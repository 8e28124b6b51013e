/**
 * Findings of the property-based fuzz (issue #19 §9, test/integration/fuzz.test.ts), each reproduced
 * on its own, on both stores.
 *
 * A refused SENCE start wrote the launch anyway: POST /lti/sence/start from a launch without a RUN
 * (or in a course not configured) answered 422 "No tenemos tu RUN" but had already upserted the
 * learner and touched the course (recordLaunch before attendance.start's checks). A refused request
 * changes nothing stored outside the audit log.
 */
import { launchAs } from '../support/lti-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.stop();
});

const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });

it('a SENCE start refused for want of a RUN (422) writes neither the learner nor the course', async () => {
  const diego = await launchAs(sys, 'diego'); // instructor, the LMS sends no RUN
  const learnerKey = { issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub: 'diego' };
  const learnerBefore = await sys.stores.learners.get(learnerKey);
  const courseBefore = await sys.stores.courses.get(courseKey());
  await new Promise((r) => setTimeout(r, 20)); // a rewrite would carry a later updatedAt
  const res = await diego.client.post(`${sys.url}/lti/sence/start`, { ltik: diego.ltik, course: diego.course });
  expect(res.status).toBe(422);
  expect(res.text).toContain('No tenemos tu RUN, así que no podemos enviarte a SENCE.');
  expect(await sys.stores.learners.get(learnerKey)).toEqual(learnerBefore);
  expect(await sys.stores.courses.get(courseKey())).toEqual(courseBefore);
});
