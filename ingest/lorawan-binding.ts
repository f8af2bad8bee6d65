import type { ParsedTopic } from '../contracts/topics.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { Rejection } from '../contracts/rejects.ts';

/**
 * The application a LoRaWAN topic names, spelt as a device's binding is: the ChirpStack
 * application id, or TTS `{application}@{tenant}`. Undefined for native topics.
 */
export function topicApplication(topic: ParsedTopic): string | undefined {
  if (topic.format === 'chirpstack') return topic.applicationId;
  if (topic.format === 'tts') return `${topic.application}@${topic.tenant}`;
  return undefined;
}

/**
 * May this topic's network-server application speak for this device? The broker already
 * confined the publishing service account to its own applications' topic trees; this
 * confines each application to its own devices, so ChirpStack application A cannot file
 * readings for a device that belongs to application B by naming B's dev EUI.
 *
 * - A native topic: undefined. The device published it over its own credentials.
 * - A device bound to an application (`lorawanApplication`, set by the inventory or at
 *   registration): only that application's topics; any other is `wrong_application`.
 * - A device with no binding: accepted, as before bindings existed. Not "the first
 *   application seen binds it": whichever application spoke first — the misconfigured
 *   or compromised one this check exists to stop, as likely as the right one — would
 *   capture the device and lock its real owner out; the registry would change under the
 *   inventory file, which must stay what the city looks like (re-import writes nothing);
 *   and moving a device between applications would start failing without anyone having
 *   said so. Binding is the operator's statement: list `lorawanApplication` in the
 *   inventory (every device of one network-server application at once) and from then on
 *   only that application is believed. README: "LoRaWAN application binding".
 *
 * Pure, and allocation-free on the common paths (native, unbound): the ingest calls it
 * once per decoded reading, after the device is resolved.
 */
export function checkApplicationBinding(topic: ParsedTopic, device: DeviceInfo): Rejection | undefined {
  if (topic.format === 'native' || device.lorawanApplication === undefined) return undefined;
  const application = topicApplication(topic);
  if (application === device.lorawanApplication) return undefined;
  return { reason: 'wrong_application', detail: `device ${device.id} belongs to application ${device.lorawanApplication}, not ${application}` };
}
