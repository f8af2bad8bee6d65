import nodemailer from 'nodemailer';
import type { Channel } from '../../contracts/team.ts';
import { err, ok } from '../../lib/result.ts';
import type { NotifyConfig } from '../config.ts';
import { toHtml, toText } from '../message.ts';
import type { Sender } from './http.ts';

type EmailChannel = Extract<Channel, { type: 'email' }>;
export type SmtpConfig = NonNullable<NotifyConfig['smtp']>;

/**
 * Email over SMTP with one reusable transport. nodemailer's connection, greeting and
 * socket timeouts bound each phase; a message counts as sent only when the server
 * accepted every recipient.
 */
export function createEmailSender(smtp: SmtpConfig | undefined, timeoutMs: number): { send: Sender<EmailChannel>; close(): void } {
  const transport = smtp
    ? nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        requireTLS: smtp.requireTls,
        ignoreTLS: !smtp.secure && !smtp.requireTls && ['127.0.0.1', 'localhost', '::1'].includes(smtp.host),
        auth: smtp.user ? { user: smtp.user, pass: smtp.pass ?? '' } : undefined,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      })
    : undefined;
  return {
    async send(channel, delivery) {
      if (!transport || !smtp) return err('no SMTP server configured (notify config `smtp`)');
      try {
        const info = await transport.sendMail({
          from: smtp.from,
          to: channel.to,
          subject: delivery.message.title,
          text: toText(delivery.message),
          html: `<!doctype html><meta charset="utf-8">\n${toHtml(delivery.message)}`,
          headers: { 'X-Greenspace-Delivery': String(delivery.id) },
          // Chinese text is 3 bytes a character: base64 is smaller than quoted-printable.
          textEncoding: 'base64',
        });
        const rejected = (info.rejected ?? []).map(String);
        return rejected.length === 0 ? ok(undefined) : err(`recipients refused: ${rejected.join(', ')}`);
      } catch (error) {
        const e = error as Error & { code?: string; responseCode?: number };
        return err(`${e.code ?? 'smtp'}${e.responseCode ? ` ${e.responseCode}` : ''}: ${e.message}`.slice(0, 300));
      }
    },
    close: () => transport?.close(),
  };
}
