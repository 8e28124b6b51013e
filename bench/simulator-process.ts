/**
 * Child process of the launch benchmark that runs the LMS simulator alone (a real LTI 1.3 platform:
 * OIDC /auth, RS256-signed id_tokens, JWKS), as the LMS is another server in production. It knows
 * the tool's URLs in advance (BENCH_TOOL_PORT, chosen by the parent) and listens on BENCH_LMS_PORT,
 * with the demo users plus BENCH_LEARNERS simulated learners. It reports its platform registration
 * (for the tool's child to register) and each learner's login-initiation fields over IPC, answers
 * memory probes, profiles itself on request and exits cleanly on 'stop' (child-common.ts).
 */
import { toolUrls } from '../src/lti/tool-urls';
import { DEMO_USERS, startLmsSimulator } from '../src/simulators/lms';
import { memorySample, send } from './ipc';
import { benchLearners, learnerCount } from './learners';
import { failStartup, serveParent } from './child-common';

async function main(): Promise<void> {
  const toolPort = Number(process.env.BENCH_TOOL_PORT);
  const lmsPort = Number(process.env.BENCH_LMS_PORT);
  if (!Number.isInteger(toolPort) || toolPort <= 0 || !Number.isInteger(lmsPort) || lmsPort <= 0) {
    throw new Error('BENCH_TOOL_PORT and BENCH_LMS_PORT are required');
  }
  // The tool's PUBLIC_URL default (http://localhost:PORT), as its own child will compute it.
  const urls = toolUrls(`http://localhost:${toolPort}`);
  const learners = benchLearners(learnerCount());
  const lms = await startLmsSimulator({
    port: lmsPort,
    users: [...DEMO_USERS, ...learners],
    tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys, deepLinkUrl: urls.launch },
  });
  const logins = learners.map((u) => ({ userId: u.id, loginUrl: urls.login, fields: lms.loginInitiation(u.id) }));
  send({ type: 'ready', url: lms.url, lmsUrl: lms.url, logins, platform: lms.platform, memory: memorySample() });

  serveParent({ profilePrefix: 'simulator', close: () => lms.close() });
}

main().catch(failStartup);
