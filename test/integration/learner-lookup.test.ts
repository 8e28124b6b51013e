/**
 * lookUpLearners (src/application/learner-lookup.ts): the names behind a list of learner keys, as the
 * staff pages use it, on a real SQLite store. Keys of two platforms with the same sub stay apart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { learnerKeyId, lookUpLearners } from '../../src/application/learner-lookup';
import type { LearnerKey } from '../../src/domain/types';
import { sqliteStores } from '../../src/store/open-stores';
import type { Stores } from '../../src/store/ports';
import { openSqliteDatabase } from '../../src/store/sqlite/open-sqlite';

const moodle = { issuer: 'https://moodle.otec.cl', clientId: 'm-1' };
const canvas = { issuer: 'https://canvas.otec.cl', clientId: 'c-1' };

describe('lookUpLearners', () => {
  let dir: string;
  let stores: Stores;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'learner-lookup-'));
    stores = sqliteStores(openSqliteDatabase(path.join(dir, 'store.sqlite')));
    await stores.learners.upsert({ ...moodle, sub: '42', name: 'Ana Pérez', email: null, run: '12345678-5', runSource: 'custom' });
    await stores.learners.upsert({ ...canvas, sub: '42', name: 'Bruno Soto', email: null, run: null, runSource: null });
    await stores.learners.upsert({ ...moodle, sub: '7', name: 'Camila Rojas', email: null, run: null, runSource: null });
  });

  afterAll(async () => {
    await stores.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds each learner on its own platform, once per key, and leaves unknown keys out', async () => {
    const keys: LearnerKey[] = [
      { ...moodle, sub: '42' },
      { ...canvas, sub: '42' },
      { ...moodle, sub: '7' },
      { ...moodle, sub: '42' }, // repeated (one row per session)
      { ...canvas, sub: '7' }, // Camila is on Moodle only
    ];
    const found = await lookUpLearners(stores.learners, keys);
    expect(found.size).toBe(3);
    expect(found.get(learnerKeyId({ ...moodle, sub: '42' }))?.name).toBe('Ana Pérez');
    expect(found.get(learnerKeyId({ ...moodle, sub: '42' }))?.run).toBe('12345678-5');
    expect(found.get(learnerKeyId({ ...canvas, sub: '42' }))?.name).toBe('Bruno Soto');
    expect(found.get(learnerKeyId({ ...moodle, sub: '7' }))?.name).toBe('Camila Rojas');
    expect(found.has(learnerKeyId({ ...canvas, sub: '7' }))).toBe(false);
  });

  it('an empty list finds nothing', async () => {
    expect((await lookUpLearners(stores.learners, [])).size).toBe(0);
  });

  it('tells apart keys whose parts would run together without a separator', async () => {
    expect(learnerKeyId({ issuer: 'a', clientId: 'bc', sub: 'd' })).not.toBe(learnerKeyId({ issuer: 'ab', clientId: 'c', sub: 'd' }));
  });
});
