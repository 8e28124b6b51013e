/** Entry point of `npm start`: load config, start the system, print where to go, shut down cleanly. */
import { loadConfig } from './config';
import { isAppError } from './errors';
import { startSystem } from './system';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
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
  const system = await startSystem(config);
  const store = system.storeKind === 'mongo' ? 'MongoDB' : `SQLite (${config.sqliteFile})`;
  console.log(`Asistencia SENCE escuchando en ${config.publicUrl} · almacenamiento: ${store}`);
  if (system.lms && system.sence) {
    console.log('');
    console.log(`  Abre ${system.lms.url}  ← simulador de LMS: entra como «Ana Pérez» para ver el panel`);
    console.log(`  Emulador de SENCE: ${system.sence.url} (no es SENCE; nada se envía a SENCE)`);
    console.log(`  Valores para administradores de LMS: ${config.publicUrl}/setup`);
    console.log('');
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: cerrando…`);
    system
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        console.error(err);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  if (isAppError(err)) console.error(`No se pudo iniciar: ${err.message}`);
  else console.error('No se pudo iniciar:', err);
  process.exit(1);
});
