/** One-line JSON logs. Never pass tokens or OTEC secrets in `fields`. */
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export const consoleLogger: Logger = {
  log(level, message, fields = {}) {
    const line = JSON.stringify({ t: new Date().toISOString(), level, msg: message, ...fields });
    if (level === 'error') console.error(line);
    else if (level === 'warn') console.warn(line);
    else console.log(line);
  },
};

export const silentLogger: Logger = { log() {} };

/** Collects log lines in memory (tests assert that a bad request was logged). */
export class MemoryLogger implements Logger {
  readonly lines: Array<{ level: LogLevel; message: string; fields: Record<string, unknown> }> = [];
  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level, message, fields });
  }
}
