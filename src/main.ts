/** Entry point of `npm start`: load config, start the system, print where to go, shut down cleanly. */
import { loadConfig } from './config';
import { AppError, isAppError } from './errors';
import { startSystem, type RunningSystem } from './system';

/** SHUTDOWN_TIMEOUT_SECONDS (default 10): how long SIGTERM waits for requests in flight. */
function shutdownGraceMs(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 10_000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 600) {
    throw new AppError('config-invalid', 500, 'SHUTDOWN_TIMEOUT_SECONDS: must be a number of seconds between 0 and 600.');
  }
  return seconds * 1000;
}

async function main(): Promise<void> {
  // SIGTERM and SIGINT are ours from the first moment: one that arrives while the tool is still
  // starting (an orchestrator giving up on it, a quick Ctrl-C) is kept and acted on once the stores
  // are open, so they are closed properly instead of the process dying half-started. Handlers set
  // after the "escuchando" line left a window in which a stop right after it killed the process.
  let system: RunningSystem | null = null;
  let stopSignal: string | null = null;
  let graceMs = 10_000;
  const shutDown = (signal: string, running: RunningSystem) => {
    console.log(`${signal}: no se aceptan conexiones nuevas; terminando las solicitudes en curso (máximo ${graceMs / 1000} s)…`);
    running
      .shutdown(graceMs)
      .then(({ forced }) => {
        console.log(forced ? 'Cerrado (se cortaron solicitudes que superaron el plazo).' : 'Cerrado.');
        process.exit(0);
      })
      .catch((err: unknown) => {
        console.error(err);
        process.exit(1);
      });
  };
  const stop = (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    if (system) shutDown(signal, system);
    else console.log(`${signal} durante el inicio: se cerrará en cuanto termine de iniciar.`);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const config = loadConfig(process.env);
  graceMs = shutdownGraceMs(process.env.SHUTDOWN_TIMEOUT_SECONDS);
  if (config.devDefaults.length) {
    console.warn(
      [
        '',
        '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
        `!! DESARROLLO: se usan valores por defecto inseguros: ${config.devDefaults.join(', ')}.`,
        '!! No uses esto en producción (NODE_ENV=production los rechaza).',
        '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
        '',
      ].join('\n'),
    );
  }
  const started = await startSystem(config);
  system = started;
  if (stopSignal) {
    shutDown(stopSignal, started);
    return;
  }
  const store = started.storeKind === 'mongo' ? 'MongoDB' : `SQLite (${config.sqliteFile})`;
  console.log(`Asistencia SENCE escuchando en ${config.publicUrl} · almacenamiento: ${store}`);
  if (started.lms && started.sence) {
    console.log('');
    console.log(`  Abre ${started.lms.url}  ← simulador de LMS: entra como «Ana Pérez» para ver el panel`);
    console.log(`  Emulador de SENCE: ${started.sence.url} (no es SENCE; nada se envía a SENCE)`);
    console.log(`  Valores para administradores de LMS: ${config.publicUrl}/setup`);
    console.log('');
  }
}

main().catch((err: unknown) => {
  if (isAppError(err)) console.error(`No se pudo iniciar: ${err.message}`);
  else console.error('No se pudo iniciar:', err);
  process.exit(1);
});
