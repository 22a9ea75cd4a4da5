// connect-node (@connectrpc/connect-node) server and client of
// greet.v1.GreetService (../proto/greet.proto, code in gen/greet_pb.js made
// by protoc-gen-es), for connect_node.pcap.
//
//   node connectgreet.js server H2C_PORT HTTP1_PORT
//   node connectgreet.js client H2C_PORT HTTP1_PORT TRUTH_FILE
//
// The server listens twice: h2c (http2.createServer) and HTTP/1.1
// (http.createServer); Node cannot serve both on one plaintext port. It adds
// a response header x-seen-method with the HTTP method it received, which is
// how the client's truth knows whether a call went as GET.
//
// The client writes one JSON line per call (protocol, HTTP method,
// procedure, each message's serialized size, code) to TRUTH_FILE; the calls
// are listed in CALLS below.
'use strict';
const fs = require('fs');
const http = require('http');
const http2 = require('http2');
const { create, toBinary, toJsonString } = require('@bufbuild/protobuf');
const { ConnectError, Code, createClient } = require('@connectrpc/connect');
const { codeToString } = require('@connectrpc/connect/protocol-connect');
const { connectNodeAdapter, createConnectTransport, compressionGzip } = require('@connectrpc/connect-node');
const { GreetService, GreetRequestSchema, GreetResponseSchema } = require('./gen/greet_pb.js');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- server

const service = {
  greet(req, ctx) {
    if (!req.name) {
      throw new ConnectError('name must not be empty', Code.InvalidArgument,
        { 'x-error-source': 'connect-node' },
        [{ desc: GreetResponseSchema, value: { greeting: 'try a name' } }]);
    }
    ctx.responseHeader.set('x-greeter', 'connect-node');
    ctx.responseTrailer.set('x-greeted', String(req.name.length));
    return { greeting: `Hello, ${req.name}!` };
  },
  async *greetMany(req) {
    for (let i = 1; i <= req.count; i++) {
      await sleep(10);
      yield { greeting: `Hello #${i}, ${req.name}!` };
    }
    if (req.failWith) {
      throw new ConnectError(`stream ended with ${req.failWith} as asked`, codeFromName(req.failWith),
        { 'x-stream-error': 'asked' });
    }
  },
  async greetAll(reqs) {
    const names = [];
    for await (const r of reqs) names.push(r.name);
    return { greeting: `Hello, ${names.join(' and ')}!` };
  },
};

function codeFromName(name) {
  for (const [k, v] of Object.entries(Code)) {
    if (typeof v === 'number' && codeToString(v) === name) return v;
  }
  return Code.Unknown;
}

function serve(h2cPort, http1Port) {
  const adapter = connectNodeAdapter({ routes: (router) => router.service(GreetService, service) });
  const handler = (req, res) => {
    res.setHeader('x-seen-method', req.method);
    adapter(req, res);
  };
  http2.createServer(handler).listen(h2cPort, '127.0.0.1');
  http.createServer(handler).listen(http1Port, '127.0.0.1');
  console.log(`connect-node GreetService on h2c :${h2cPort} and HTTP/1.1 :${http1Port}`);
}

// ---------------------------------------------------------------- client

// serializedSize is what connect-es puts on the wire for msg before
// compression: protobuf binary, or the JSON text it sends for useBinaryFormat
// false (toJsonString with default options).
function serializedSize(schema, msg, binary) {
  return binary ? toBinary(schema, msg).length : Buffer.byteLength(toJsonString(schema, msg));
}

async function* tap(iterable, onEach) {
  for await (const m of iterable) {
    onEach(m);
    yield m;
  }
}

// truthInterceptor records the procedure, HTTP method and message sizes of
// each call into rec.
function truthInterceptor(rec, binary) {
  return (next) => async (req) => {
    rec.procedure = new URL(req.url).pathname;
    const inSchema = req.method.input;
    const outSchema = req.method.output;
    if (req.stream) {
      req = { ...req, message: tap(req.message, (m) => rec.reqSizes.push(serializedSize(inSchema, m, binary))) };
    } else {
      rec.reqSizes.push(serializedSize(inSchema, req.message, binary));
    }
    const res = await next(req);
    rec.method = res.header.get('x-seen-method');
    if (!res.stream) {
      rec.resSizes.push(serializedSize(outSchema, res.message, binary));
      return res;
    }
    return { ...res, message: tap(res.message, (m) => rec.resSizes.push(serializedSize(outSchema, m, binary))) };
  };
}

const N = (name) => create(GreetRequestSchema, { name });
const longName = 'connect-node '.repeat(120); // 1560 bytes: over the 1024-byte compressMinBytes default

// CALLS: [case name, transport ('1.1' or 'h2c'), transport options, call].
const CALLS = [
  ['h1_unary_proto', '1.1', {}, (c) => c.greet({ name: 'node h1' })],
  ['h1_unary_json', '1.1', { useBinaryFormat: false }, (c) => c.greet({ name: 'node json' })],
  ['h1_get_proto', '1.1', { useHttpGet: true }, (c) => c.greet({ name: 'node get' })],
  ['h1_get_json', '1.1', { useHttpGet: true, useBinaryFormat: false }, (c) => c.greet({ name: 'node get json' })],
  ['h1_unary_error', '1.1', {}, (c) => c.greet({ name: '' })],
  ['h1_server_stream', '1.1', {}, (c) => drain(c.greetMany({ name: 'h1 stream', count: 3 }))],
  ['h2c_unary_proto', 'h2c', {}, (c) => c.greet({ name: 'node h2c' })],
  ['h2c_get_gzip', 'h2c', { useHttpGet: true, sendCompression: compressionGzip }, (c) => c.greet({ name: longName })],
  ['h2c_unary_gzip', 'h2c', { sendCompression: compressionGzip }, (c) => c.greet({ name: longName })],
  ['h2c_unary_error_json', 'h2c', { useBinaryFormat: false }, (c) => c.greet({ name: '' })],
  ['h2c_server_stream', 'h2c', {}, (c) => drain(c.greetMany({ name: 'h2c stream', count: 3 }))],
  ['h2c_server_stream_error', 'h2c', {}, (c) => drain(c.greetMany({ name: 'doomed', count: 2, failWith: 'aborted' }))],
  ['h2c_server_stream_gzip', 'h2c', { sendCompression: compressionGzip }, (c) => drain(c.greetMany({ name: longName, count: 2 }))],
  ['h2c_client_stream', 'h2c', {}, (c) => c.greetAll(list([N('ann'), N('bob'), N('cy')]))],
];

async function drain(iterable) {
  for await (const _ of iterable) { /* sizes are recorded by the interceptor */ }
}

async function* list(items) {
  for (const it of items) yield it;
}

async function runCall([name, version, opts, call], ports) {
  const binary = opts.useBinaryFormat !== false;
  const rec = { procedure: '', method: '', reqSizes: [], resSizes: [] };
  const port = version === 'h2c' ? ports.h2c : ports.http1;
  const transport = createConnectTransport({
    baseUrl: `http://127.0.0.1:${port}`,
    httpVersion: version === 'h2c' ? '2' : '1.1',
    interceptors: [truthInterceptor(rec, binary)],
    ...opts,
  });
  let code = 'ok', grpcCode = 0, message;
  try {
    await call(createClient(GreetService, transport));
  } catch (e) {
    const err = ConnectError.from(e);
    code = codeToString(err.code);
    grpcCode = err.code;
    message = err.rawMessage;
    rec.method = rec.method || err.metadata.get('x-seen-method');
  }
  const line = {
    case: name, protocol: 'connect', http: version, http_method: rec.method, procedure: rec.procedure,
    codec: binary ? 'proto' : 'json', send_compression: opts.sendCompression ? 'gzip' : undefined,
    request_messages: rec.reqSizes.length, request_sizes: rec.reqSizes,
    response_messages: rec.resSizes.length, response_sizes: rec.resSizes,
    code, grpc_code: grpcCode, message,
  };
  console.log(`${name}: ${line.http_method} ${line.procedure} -> ${code} ${message || ''}`);
  await sleep(20); // keep calls apart in the capture
  return JSON.stringify(line);
}

async function runClient(ports, truthFile) {
  const lines = [];
  for (const c of CALLS) lines.push(await runCall(c, ports));
  fs.writeFileSync(truthFile, lines.join('\n') + '\n');
}

const [mode, h2cPort, http1Port, truthFile] = process.argv.slice(2);
if (mode === 'server') {
  serve(Number(h2cPort), Number(http1Port));
} else if (mode === 'client') {
  runClient({ h2c: Number(h2cPort), http1: Number(http1Port) }, truthFile || '/dev/stdout').then(
    () => process.exit(0),
    (e) => { console.error(e); process.exit(1); });
} else {
  console.error('usage: node connectgreet.js server H2C_PORT HTTP1_PORT | client H2C_PORT HTTP1_PORT TRUTH_FILE');
  process.exit(2);
}
