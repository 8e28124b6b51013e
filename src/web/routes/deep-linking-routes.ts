/** Deep linking: an instructor places the panel from the LMS content picker (LTI DL 2.0). */
import { Router } from 'express';
import type { Provider } from 'ltijs';
import type { IdToken } from 'ltijs';
import { AppError } from '../../errors';
import { launchIdentity } from '../launch-context';

export function deepLinkingRoutes(deps: { provider: typeof Provider; launchUrl: string }): Router {
  const router = Router();
  router.post('/deep-link', async (req, res) => {
    const identity = launchIdentity(res);
    const token = res.locals.token as IdToken;
    if (!identity.isStaff) throw new AppError('forbidden-role', 403, 'Solo el equipo docente puede agregar actividades.');
    const settings = token.platformContext?.deepLinkingSettings as { deep_link_return_url?: string } | undefined;
    if (!settings?.deep_link_return_url) {
      throw new AppError('lti-unsupported-message', 400, 'Esta acción solo funciona desde el selector de contenido de la plataforma.');
    }
    // The picker's form always posts one; a POST without any body (or not a form) is refused.
    const body = req.body as Record<string, unknown> | undefined;
    if (body === undefined || body === null || typeof body !== 'object') {
      throw new AppError('bad-request', 400, 'El formulario para agregar la actividad llegó vacío. Vuelva a abrir el selector de contenido desde su plataforma.');
    }
    const rawTitle = (Object.hasOwn(body, 'title') && typeof body.title === 'string' ? body.title : '').trim();
    const title = (rawTitle || 'Asistencia SENCE').slice(0, 100);
    const jwt = await deps.provider.DeepLinking.createDeepLinkingMessage(
      token,
      [{ type: 'ltiResourceLink', title, url: deps.launchUrl, custom: { rut: '$User.username' } }],
      { message: `Se agregó «${title}» al curso.` },
    );
    res.set('Cache-Control', 'no-store').render('auto-post', {
      title: 'Agregando la actividad',
      lead: 'Volviendo a su plataforma…',
      form: { action: settings.deep_link_return_url, fields: { JWT: jwt } },
    });
  });
  return router;
}
