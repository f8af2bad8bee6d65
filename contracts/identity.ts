/** Who is on the other end of an MQTT connection, settled at CONNECT. */
export type Identity =
  | { role: 'device'; deviceId: string }
  | { role: 'admin'; name: string };
