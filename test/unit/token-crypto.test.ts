import { openSecret, sealSecret, secretHint } from '../../src/domain/token-crypto';
import { AppError } from '../../src/errors';

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);
const token = '0A1B2C3D-4E5F-6789-ABCD-EF0123456789';

function flipChar(text: string, index: number): string {
  const c = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + c + text.slice(index + 1);
}

describe('sealSecret / openSecret', () => {
  it('round-trips a token, also with non-ASCII text', () => {
    expect(openSecret(sealSecret(token, key), key)).toBe(token);
    expect(openSecret(sealSecret('contraseña ñandú', key), key)).toBe('contraseña ñandú');
    expect(openSecret(sealSecret('', key), key)).toBe('');
  });

  it('produces v1.<iv>.<tag>.<ciphertext> in base64url, never the plain token', () => {
    const sealed = sealSecret(token, key);
    const parts = sealed.split('.');
    expect(parts).toHaveLength(4);
    expect(parts[0]).toBe('v1');
    expect(Buffer.from(parts[1] ?? '', 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[2] ?? '', 'base64url')).toHaveLength(16);
    for (const part of parts.slice(1)) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(token);
    expect(sealed).not.toContain('EF0123456789');
  });

  it('uses a fresh IV each time', () => {
    expect(sealSecret(token, key)).not.toBe(sealSecret(token, key));
  });

  it.each([1, 2, 3])('detects tampering with part %i', (partIndex) => {
    const parts = sealSecret(token, key).split('.');
    parts[partIndex] = flipChar(parts[partIndex] ?? '', 2);
    expect(() => openSecret(parts.join('.'), key)).toThrow(expect.objectContaining({ code: 'internal', status: 500 }));
  });

  it('refuses the wrong key', () => {
    const sealed = sealSecret(token, key);
    expect(() => openSecret(sealed, otherKey)).toThrow(AppError);
  });

  it.each(['', 'plain-token', 'v2.a.b.c', 'v1.a.b', 'v1.a.b.c.d'])('refuses malformed %p', (sealed) => {
    expect(() => openSecret(sealed, key)).toThrow(expect.objectContaining({ code: 'internal' }));
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => sealSecret(token, Buffer.alloc(16))).toThrow(AppError);
    expect(() => openSecret(sealSecret(token, key), Buffer.alloc(31))).toThrow(AppError);
  });

  it('never exposes the error details to the learner (5xx)', () => {
    try {
      openSecret('v1.x.y.z', key);
      throw new Error('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).expose).toBe(false);
    }
  });
});

describe('secretHint', () => {
  it('shows only the last 4 characters', () => {
    expect(secretHint(token)).toBe('…6789');
  });

  it('shows nothing of very short secrets', () => {
    expect(secretHint('abc')).toBe('…');
    expect(secretHint('abcdefg')).toBe('…');
    expect(secretHint('abcdefgh')).toBe('…efgh');
  });
});

describe('what the learner and the operator read when a sealed token cannot be opened', () => {
  const hintOf = (sealed: string, k = key): string | undefined => {
    try {
      openSecret(sealed, k);
    } catch (error) {
      expect((error as AppError).message).toBe('No pudimos leer la credencial guardada de la OTEC.');
      return (error as AppError).staffHint;
    }
    throw new Error('expected openSecret to refuse');
  };

  it.each(['', 'plain-token', 'v2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AA', 'v1.a.b', 'v1.a.b.c.d'])('an unknown format (%p)', (sealed) => {
    expect(hintOf(sealed)).toBe('Formato de secreto sellado desconocido (se esperaba v1.<iv>.<tag>.<datos>).');
  });

  it('an IV or tag of the wrong length', () => {
    const [v, iv, tag, data] = sealSecret(token, key).split('.');
    expect(hintOf([v, iv?.slice(0, 8), tag, data].join('.'))).toBe('Secreto sellado con IV o etiqueta de largo incorrecto.');
    expect(hintOf([v, iv, tag?.slice(0, 8), data].join('.'))).toBe('Secreto sellado con IV o etiqueta de largo incorrecto.');
  });

  it('altered, or sealed with another TOKEN_ENCRYPTION_KEY', () => {
    expect(hintOf(sealSecret(token, key), otherKey)).toBe('El secreto sellado fue alterado o se cifró con otra TOKEN_ENCRYPTION_KEY.');
  });

  it('a key that is not 32 bytes', () => {
    expect(hintOf(sealSecret(token, key), Buffer.alloc(31))).toBe('TOKEN_ENCRYPTION_KEY debe tener 32 bytes (64 caracteres hex).');
  });
});
