// @grpc/grpc-js packed.Samples server and client (node_packed.pcap): the
// client records the same four samples as go/cmd/packedsamples, whose
// repeated fields are packed (int32 with negatives, uint64 up to 2^64-1,
// sint64, fixed32, double, float, sfixed64), and the server echoes each
// back with its count of values. One channel.
//
//   node packed.js server PORT
//   node packed.js client PORT
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO = path.join(__dirname, '..', 'proto', 'packed.proto');
const pkgDef = protoLoader.loadSync(PROTO, {keepCase: true, longs: String, enums: String, defaults: true});
const packed = grpc.loadPackageDefinition(pkgDef).packed;

const [mode, portArg] = process.argv.slice(2);
const port = Number(portArg || 50191);

// 64-bit values are strings: a JavaScript number cannot hold 2^64-1.
const SAMPLES = [
  {name: 'first', values: [7, -1, 150000], ids: ['1', '300', '18446744073709551615'],
    deltas: ['-3', '5', '0', '-1', '1000000', '2'], counters: [10, 20, 30000, 4000000000],
    readings: [21.5, -3.25, 1013.25], ratios: [0.25, 1.5, -0.1],
    offset: -5, level: 0.75, stamps: ['1700000000', '1700000060']},
  {name: 'second', values: [-100, 42], ids: ['18446744073709551615', '2'],
    deltas: ['-1', '1', '-2', '2'], counters: [1, 2, 3],
    readings: [0.1, 0.2], ratios: [3.5],
    offset: -1, level: 1, stamps: ['1700000120', '-1']},
  {name: 'third', values: [1, 2, 3], ids: ['123456789012'],
    deltas: ['-500'], counters: [7, 8],
    readings: [-1.5], ratios: [0.5, 0.25],
    offset: 100, level: -2.5, stamps: ['1700000180']},
  // Alone, values [122] reads as the text "z" and ids [104, 105] as "hi":
  // the other samples say they are packed.
  {name: 'fourth', values: [122], ids: ['104', '105'],
    deltas: [], counters: [5, 6], readings: [2.5], ratios: [0.125],
    offset: 7, level: 3, stamps: ['1700000240']},
];

const REPEATED = ['values', 'ids', 'deltas', 'counters', 'readings', 'ratios', 'stamps'];

function server() {
  const s = new grpc.Server();
  s.addService(packed.Samples.service, {
    Record(call, cb) {
      const count = REPEATED.reduce((n, k) => n + call.request[k].length, 0);
      cb(null, {...call.request, count});
    },
  });
  s.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) throw err;
    console.log(`grpc-js Samples on port ${port}`);
  });
  const stop = () => s.tryShutdown(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function client() {
  const c = new packed.Samples(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  for (const sample of SAMPLES) {
    const resp = await new Promise((resolve, reject) => {
      c.Record(sample, (err, r) => (err ? reject(err) : resolve(r)));
    });
    console.log(`Record(${sample.name}): ${resp.count} values`);
  }
  c.close();
}

if (mode === 'server') {
  server();
} else if (mode === 'client') {
  client().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  console.error('usage: node packed.js server|client PORT');
  process.exit(2);
}
