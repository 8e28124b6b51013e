/** Issue #20 §5: a callback's Origin/Referer is evidence only when it names a site that is not SENCE's. */
import { judgeCallbackOrigin } from '../../src/sence/callback-origin';

const SENCE = ['https://sistemas.sence.cl', 'https://rcetest.sence.cl'];
const judge = (origin: string | null, referer: string | null) => judgeCallbackOrigin({ origin, referer }, SENCE);

describe('judgeCallbackOrigin', () => {
  it('SENCE\'s origin in Origin or Referer (strict-origin-when-cross-origin sends both) is "sence"', () => {
    expect(judge('https://sistemas.sence.cl', 'https://sistemas.sence.cl/')).toBe('sence');
    expect(judge('https://rcetest.sence.cl', null)).toBe('sence');
    expect(judge(null, 'https://sistemas.sence.cl/Registro/IniciarSesion')).toBe('sence');
    expect(judge('null', 'https://sistemas.sence.cl/')).toBe('sence');
  });

  it('no header, an empty one, or Origin: null (no-referrer) is "missing": no evidence', () => {
    expect(judge(null, null)).toBe('missing');
    expect(judge('null', null)).toBe('missing');
    expect(judge('', '  ')).toBe('missing');
  });

  it('an Origin or Referer naming another site is "foreign", even beside SENCE\'s', () => {
    expect(judge(null, 'https://atacante.example/forja.html')).toBe('foreign');
    expect(judge('https://atacante.example', null)).toBe('foreign');
    expect(judge('https://atacante.example', 'https://sistemas.sence.cl/')).toBe('foreign');
    expect(judge('https://sistemas.sence.cl', 'https://atacante.example/')).toBe('foreign');
    // Another port or scheme is another origin.
    expect(judge('http://sistemas.sence.cl', null)).toBe('foreign');
    expect(judge('https://sistemas.sence.cl:8443', null)).toBe('foreign');
  });

  it('a value that is not an http(s) URL is "foreign" (a browser never sends it)', () => {
    expect(judge('garbage', null)).toBe('foreign');
    expect(judge(null, 'javascript:alert(1)')).toBe('foreign');
  });

  it('with no SENCE origin configured, anything named is foreign', () => {
    expect(judgeCallbackOrigin({ origin: 'https://sistemas.sence.cl', referer: null }, [null])).toBe('foreign');
  });
});
