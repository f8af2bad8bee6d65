-- The network-server application a LoRaWAN device belongs to, as its uplink topics name
-- it: a ChirpStack v4 application id, or The Things Stack v3 {application}@{tenant}.
-- NULL = unbound: any application that reaches its dev EUI may speak for it, as before
-- this column existed (see ingest/lorawan-binding.ts).
ALTER TABLE devices ADD COLUMN lorawan_application TEXT;
