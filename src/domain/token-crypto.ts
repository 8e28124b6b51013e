/**
 * OTEC tokens at rest (REFERENCE §5.1: keep the token encrypted and out of logs).
 * AES-256-GCM with a random 12-byte IV; sealed form "v1.<iv>.<tag>.<ciphertext>" in base64url.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function cryptoError(staffHint: string, cause?: unknown): AppError {
  return new AppError('internal', 500, 'No pudimos leer la credencial guardada de la OTEC.', { staffHint, cause });
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw cryptoError('TOKEN_ENCRYPTION_KEY debe tener 32 bytes (64 caracteres hex).');
}

export function sealSecret(plain: string, key: Buffer): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

export function openSecret(sealed: string, key: Buffer): string {
  checkKey(key);
  const parts = sealed.split('.');
  const [version, ivText, tagText, dataText] = parts;
  if (parts.length !== 4 || version !== VERSION || ivText === undefined || tagText === undefined || dataText === undefined) {
    throw cryptoError('Formato de secreto sellado desconocido (se esperaba v1.<iv>.<tag>.<datos>).');
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw cryptoError('Secreto sellado con IV o etiqueta de largo incorrecto.');
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw cryptoError('El secreto sellado fue alterado o se cifró con otra TOKEN_ENCRYPTION_KEY.', cause);
  }
}

/** "…" + last 4 characters, to tell staff which token is stored; nothing of secrets shorter than 8. */
export function secretHint(plain: string): string {
  return plain.length < 8 ? '…' : `…${plain.slice(-4)}`;
}
