/** Demo mode: the emulator's OTEC and the simulator's course come configured, so a learner can walk through at once. */
import type { Config } from './config';
import type { Stores } from './store/ports';
import type { LmsSimulator } from './simulators/lms';
import { DEMO_COURSE } from './simulators/lms';
import { DEMO_OTEC, DEMO_SENCE_COURSE } from './simulators/sence';
import { sealSecret, secretHint } from './domain/token-crypto';

export const DEMO_OTEC_ID = 'otec-demo';

export async function seedDemo(args: { stores: Stores; config: Readonly<Config>; lms: LmsSimulator; now: Date }): Promise<void> {
  const { stores, config, lms, now } = args;
  if (!(await stores.otecs.get(DEMO_OTEC_ID))) {
    await stores.otecs.save({
      id: DEMO_OTEC_ID,
      name: DEMO_OTEC.name,
      rut: DEMO_OTEC.rut,
      tokenSealed: sealSecret(DEMO_OTEC.token, config.tokenKey),
      tokenHint: secretHint(DEMO_OTEC.token),
      platforms: [{ issuer: lms.issuer, clientId: lms.clientId }],
      createdAt: now,
      updatedAt: now,
    });
  }
  const key = { issuer: lms.issuer, clientId: lms.clientId, contextId: DEMO_COURSE.contextId };
  const course = await stores.courses.touch(key, DEMO_COURSE.title);
  if (!course.settings) {
    await stores.courses.saveSettings(key, {
      otecId: DEMO_OTEC_ID,
      lineaCapacitacion: DEMO_SENCE_COURSE.lineaCapacitacion,
      codSence: DEMO_SENCE_COURSE.codSence,
      codigoCurso: DEMO_SENCE_COURSE.codigoCurso,
      requiredHours: 20,
      environment: 'test',
      sessionLimitMinutes: config.defaultSessionLimitMinutes,
      warningMinutes: config.defaultWarningMinutes,
    });
  }
}
