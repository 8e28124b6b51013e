/** Every URL an LMS admin needs to register the tool, from PUBLIC_URL. */
export interface ToolUrls {
  base: string;
  launch: string;
  login: string;
  keys: string;
  register: string;
  canvasJson: string;
  setup: string;
}

export function toolUrls(publicUrl: string): ToolUrls {
  return {
    base: publicUrl,
    launch: `${publicUrl}/lti`,
    login: `${publicUrl}/lti/login`,
    keys: `${publicUrl}/lti/keys`,
    register: `${publicUrl}/lti/register`,
    canvasJson: `${publicUrl}/lti/canvas.json`,
    setup: `${publicUrl}/setup`,
  };
}

/** Canvas developer-key JSON (REFERENCE §4.2), with the custom parameter that carries the RUT. */
export function canvasDeveloperKey(publicUrl: string): Record<string, unknown> {
  const urls = toolUrls(publicUrl);
  const domain = new URL(publicUrl).host;
  return {
    title: 'Asistencia SENCE',
    description: 'Registro de asistencia SENCE (RCE) para cursos e-learning',
    oidc_initiation_url: urls.login,
    target_link_uri: urls.launch,
    public_jwk_url: urls.keys,
    scopes: [
      'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
      'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
      'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
      'https://purl.imsglobal.org/spec/lti-ags/scope/score',
      'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
    ],
    extensions: [
      {
        platform: 'canvas.instructure.com',
        domain,
        privacy_level: 'public',
        settings: {
          text: 'Asistencia SENCE',
          placements: [
            {
              placement: 'course_navigation',
              message_type: 'LtiResourceLinkRequest',
              target_link_uri: urls.launch,
              text: 'Asistencia SENCE',
              default: 'enabled',
              // Embedded (no windowTarget): the tool needs no third-party cookie, and Canvas's LTI
              // Platform Storage binds the launch. Admins who prefer a new tab add "windowTarget": "_blank".
            },
            {
              placement: 'link_selection',
              message_type: 'LtiDeepLinkingRequest',
              target_link_uri: urls.launch,
              text: 'Asistencia SENCE',
            },
          ],
        },
      },
    ],
    custom_fields: {
      rut: '$Canvas.user.sisIntegrationId',
    },
  };
}
