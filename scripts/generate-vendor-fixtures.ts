/**
 * Regenerates test/fixtures/vendor-uplinks/*.json: what each vendor's own published decoder
 * returns for a model's example payload bytes. The decoders are not in this repository
 * (their licences are their vendors'): check out the vendor repositories and name the
 * directory holding them, laid out as `{owner}/{repo}/{path}`:
 *
 *   node scripts/generate-vendor-fixtures.ts --decoders /tmp/vendor-decoders
 *
 * Each decoder runs in a node:vm context of its own, with nothing but the language's
 * built-ins (no require, no process) and a one-second budget. A fixture records the
 * decoder's repository, path and commit beside the bytes and the decoded object, so a
 * decoder release that renames a field shows up as a diff here.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createContext, runInContext } from 'node:vm';

interface Example {
  /** The fixture's file name: one per example. */
  name: string;
  /** The profile (ingest/profiles/{profile}.yaml) the fixture is read with. */
  profile: string;
  repo: string;
  commit: string;
  path: string;
  /** Where the example bytes come from. */
  bytesFrom: string;
  hex: string;
  fPort: number;
}

const MILESIGHT = { repo: 'Milesight-IoT/SensorDecoders', commit: 'e79c9d8b25ec66b6aad34c9240cfaa2ccd1353e3' };
const DRAGINO = { repo: 'dragino/dragino-end-node-decoder', commit: 'e81cc58a0523857887d705450c21c8cb99e93a8f' };
const SENSECAP = { repo: 'Seeed-Solution/SenseCAP-Decoder', commit: 'bceda3d31df47908e3934566c7f640fea763d539', path: 'S210X/TTN/SenseCAP_S210X_TTN_Decoder.js' };

/**
 * Dragino publishes no example frames beside its decoders; the bytes below follow the
 * uplink layout its decoders read (and its manuals give), with values chosen to exercise
 * the profile: a 2.885 V cell (working on a 2.5–3.6 V Li-SOCl2 curve) and an EC of 28,200
 * µS/cm (past the store's 20 mS/cm: dropped and counted, the rest kept).
 */
const EXAMPLES: Example[] = [
  { name: 'milesight-em500-smtc', profile: 'milesight-em500-smtc', ...MILESIGHT, path: 'em-series/em500-smtc/em500-smtc-decoder.js', bytesFrom: 'em-series/em500-smtc/README.md "Example"', hex: '01756403671901046873057FF000', fPort: 85 },
  // Historical data (channel 0x20 0xCE): 2026-12-07T10:00:00Z EC 612 µS/cm, 18.5 °C, 31.25 %; 10:30 640, 19.0, 31.00.
  { name: 'milesight-em500-smtc-history', profile: 'milesight-em500-smtc', ...MILESIGHT, path: 'em-series/em500-smtc/em500-smtc-decoder.js', bytesFrom: 'the README\'s "Historical Data" layout: timestamp(4B) + EC(2B) + temperature(2B) + moisture(2B)', hex: '20CEA083166B6402B900350C20CEA88A166B8002BE001C0C', fPort: 85 },
  { name: 'milesight-em310-tilt', profile: 'milesight-em310-tilt', ...MILESIGHT, path: 'em-series/em310-tilt/em310-tilt-decoder.js', bytesFrom: 'em-series/em310-tilt/README.md "Example" (with a battery channel 017564 before it)', hex: '01755A03CF2C01F4FF282300', fPort: 85 },
  { name: 'milesight-em320-tilt', profile: 'milesight-em320-tilt', ...MILESIGHT, path: 'em-series/em320-tilt/em320-tilt-decoder.js', bytesFrom: 'em-series/em320-tilt/README.md "Example"', hex: '01756403D4000001005046', fPort: 85 },
  // SenseCAP frames are 7 bytes (channel, id LE, value LE / 1000) and a CRC (this decoder
  // version does not check it): the battery frame of the decoder's @sample-1, then telemetry
  // 4102 soil temperature 22.5 °C, 4103 soil moisture 31.2 %, (S2105) 4108 EC 0.45 dS/m.
  { name: 'sensecap-s2104', profile: 'sensecap-s2104', ...SENSECAP, bytesFrom: 'the decoder\'s frame layout and its @sample-1 battery frame', hex: '0007006400' + '3C00' + '010610E4570000' + '010710E0790000' + '0000', fPort: 2 },
  { name: 'sensecap-s2105', profile: 'sensecap-s2105', ...SENSECAP, bytesFrom: 'the decoder\'s frame layout and its @sample-1 battery frame', hex: '0007006400' + '3C00' + '010610E4570000' + '010710E0790000' + '010C10C2010000' + '0000', fPort: 2 },
  { name: 'dragino-se01-lb', profile: 'dragino-se01-lb', ...DRAGINO, path: 'SE01-LB/se01-lb_TTN_Decoder.txt', bytesFrom: 'the SE01-LB uplink layout (port 2, MOD 0)', hex: '0B4500F50AF009926E2800', fPort: 2 },
  { name: 'dragino-se01-lb-fresh', profile: 'dragino-se01-lb', ...DRAGINO, path: 'SE01-LB/se01-lb_TTN_Decoder.txt', bytesFrom: 'the SE01-LB uplink layout (port 2, MOD 0)', hex: '0E1000FA0C1C080201F400', fPort: 2 },
  { name: 'dragino-se02-lb', profile: 'dragino-se02-lb', ...DRAGINO, path: 'SE02-LB/SE02V1.0-Chirpstack.txt', bytesFrom: 'the SE02-LB uplink layout (port 2, MOD 0, two probes); the TTN decoder of this commit does not parse (`return` then a line break before its object, line 124)', hex: '0D4800F50B540A280320086C09C404B0000000', fPort: 2 },
  { name: 'dragino-se0x-lb', profile: 'dragino-se0x-lb', ...DRAGINO, path: 'SE0X-LB/SE0X-LB decoder.txt', bytesFrom: 'the SE0X-LB uplink layout (port 2, MOD 0, probe 1 of 4)', hex: '0E0100F0080A8C0898025800000000000000000000000000000000000000000000', fPort: 2 },
  { name: 'dragino-ts01-lb', profile: 'dragino-ts01-lb', ...DRAGINO, path: 'TS01-LB/TS01-LB_TTN_Decoder.txt', bytesFrom: 'the TS01-LB uplink layout (port 2)', hex: '0E2A0000FA0222FE9A00', fPort: 2 },
  { name: 'dragino-lse01', profile: 'dragino-lse01', ...DRAGINO, path: 'LSE01/LSE01_TTN Decoder V1.2.1.txt', bytesFrom: 'the LSE01 uplink layout (port 2)', hex: '0CF400F50A28086C04B000', fPort: 2 },
];

/** Run one decoder on one frame, sandboxed; returns the decoded object as plain JSON. */
export function runDecoder(source: string, bytes: number[], fPort: number): Record<string, unknown> {
  const context = createContext({});
  runInContext(source, context, { timeout: 1000 });
  const call = `(function (bytes, fPort) {
    if (typeof decodeUplink === 'function') { var r = decodeUplink({ bytes: bytes, fPort: fPort }); return JSON.stringify(r && r.data !== undefined ? r.data : r); }
    if (typeof Decoder === 'function') return JSON.stringify(Decoder(bytes, fPort));
    if (typeof Decode === 'function') return JSON.stringify(Decode(fPort, bytes));
    throw new Error('no decodeUplink, Decoder or Decode function');
  })`;
  const fn = runInContext(call, context, { timeout: 1000 }) as (bytes: number[], fPort: number) => string;
  return JSON.parse(fn(bytes, fPort)) as Record<string, unknown>;
}

function main(): void {
  const { values } = parseArgs({ options: { decoders: { type: 'string' }, out: { type: 'string', default: 'test/fixtures/vendor-uplinks' } } });
  if (!values.decoders) throw new Error('--decoders DIR is required (vendor repositories laid out as {owner}/{repo}/{path})');
  mkdirSync(values.out, { recursive: true });
  for (const e of EXAMPLES) {
    const source = readFileSync(join(values.decoders, e.repo, e.path), 'utf8');
    const bytes = [...Buffer.from(e.hex, 'hex')];
    const decoded = runDecoder(source, bytes, e.fPort);
    const fixture = {
      profile: e.profile,
      decoder: { repository: `https://github.com/${e.repo}`, path: e.path, commit: e.commit },
      bytesFrom: e.bytesFrom,
      fPort: e.fPort,
      bytesHex: e.hex,
      decoded,
    };
    writeFileSync(join(values.out, `${e.name}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
