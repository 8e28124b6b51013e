/**
 * Seeds a store for the scale benchmark straight through SQL (SQLite) or the driver (MongoDB), not
 * the HTTP API: BENCH_SEED_LEARNERS learners (default 100,000) and BENCH_SEED_SESSIONS closed
 * sessions (default 1,000,000) spread over them, in the demo course of the given platform.
 *   node dist/bench/seed-scale.js <sqlite file> <issuer> <clientId>
 * The file must exist with its schema (start the tool on it once) or is created here.
 */
import { randomUUID } from 'node:crypto';
import { openSqliteDatabase } from '../src/store/sqlite/open-sqlite';
import { DEMO_OTEC_ID } from '../src/demo-seed';
import { DEMO_COURSE } from '../src/simulators/lms/demo-data';

export interface SeedFigures {
  learners: number;
  sessions: number;
  seconds: number;
}

export function seedSqlite(file: string, issuer: string, clientId: string, learners: number, sessions: number): SeedFigures {
  const started = Date.now();
  const db = openSqliteDatabase(file);
  const insertLearner = db.prepare(
    'INSERT OR IGNORE INTO app_learners (issuer, client_id, sub, name, email, run, run_source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertSession = db.prepare(`INSERT INTO app_sessions (
      id, learner_issuer, learner_client_id, learner_sub, course_issuer, course_client_id, course_context_id, otec_id,
      environment, id_sesion_alumno, sent, state, limit_minutes, warning_minutes, id_sesion_sence, sence_start_fecha_hora,
      sence_zona_horaria, created_at, opened_at, close_requested_at, ended_at, accredited_seconds, last_error_codes, end_reason, version)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'test', ?, ?, 'closed', 180, 10, ?, '2025-03-04 10:00:00', 'America/Santiago', ?, ?, ?, ?, 3600, '[]', NULL, 4)`);
  const now = Date.now();
  const sent = JSON.stringify({ RutOtec: '76000000-0', CodSence: '1234567890', CodigoCurso: DEMO_COURSE.contextId, LineaCapacitacion: '3', RunAlumno: '12345678-5' });
  const chunk = 20_000;
  for (let from = 0; from < learners; from += chunk) {
    db.transaction(() => {
      for (let i = from; i < Math.min(learners, from + chunk); i += 1) {
        insertLearner.run(issuer, clientId, `seed-${i}`, `Alumno ${i}`, `alumno${i}@example.cl`, '12345678-5', 'custom', now);
      }
    })();
  }
  for (let from = 0; from < sessions; from += chunk) {
    db.transaction(() => {
      for (let i = from; i < Math.min(sessions, from + chunk); i += 1) {
        const created = now - (sessions - i) * 60_000;
        insertSession.run(
          randomUUID(), issuer, clientId, `seed-${i % learners}`, issuer, clientId, DEMO_COURSE.contextId, DEMO_OTEC_ID,
          `seed-${i}`, sent, randomUUID(), created, created + 1000, created + 3_600_000, created + 3_601_000,
        );
      }
    })();
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  db.close();
  return { learners, sessions, seconds: (Date.now() - started) / 1000 };
}

if (require.main === module) {
  const [file, issuer, clientId] = process.argv.slice(2);
  if (!file || !issuer || !clientId) {
    console.error('usage: node dist/bench/seed-scale.js <sqlite file> <issuer> <clientId>');
    process.exit(2);
  }
  const figures = seedSqlite(file, issuer, clientId, Number(process.env.BENCH_SEED_LEARNERS ?? 100_000), Number(process.env.BENCH_SEED_SESSIONS ?? 1_000_000));
  console.log(JSON.stringify(figures));
}
