/** Mailer adapter over SMTP (nodemailer), configured by SMTP_URL. Short timeouts: a dead server fails fast. */
import nodemailer from 'nodemailer';
import type { MailMessage, Mailer } from '../application/alert-digest';

export function smtpMailer(smtpUrl: string): Mailer {
  // SMTP transport options: `url` is parsed by nodemailer (smtp:// or smtps://, user and password included).
  const transport = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    async send(message: MailMessage): Promise<void> {
      await transport.sendMail({ from: message.from, to: message.to, subject: message.subject, text: message.text });
    },
  };
}
