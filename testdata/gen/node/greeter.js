// @grpc/grpc-js helloworld.Greeter server and client (node_grpcjs.pcap).
//
//   node greeter.js server PORT
//   node greeter.js client PORT
//
// Over TLS (node_grpcjs_tls.pcap; CERT/KEY are PEM files, the certificate's
// name must be greeter.test; run the client as "node --tls-keylog=FILE" to
// get the NSS key log):
//
//   node greeter.js tls-server PORT CERT KEY
//   node greeter.js tls-client PORT CERT
//
// Client calls, all over one channel:
//   SayHello("Alice"), SayHello("Bob"), SayHello("Zoë")  -> OK "Hello, <name>!"
//   Square(1.5)                                         -> OK 2.25
//   SayHelloStream("stream")                            -> OK, 3 replies
//   SayHello("")                                        -> INVALID_ARGUMENT "name must not be empty"
// TLS client calls, over one channel:
//   SayHello("tls")                                     -> OK "Hello, tls!"
//   SayHelloStream("tls stream")                        -> OK, 3 replies
//   SayHello("")                                        -> INVALID_ARGUMENT "name must not be empty"
'use strict';
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO = path.join(__dirname, '..', 'proto', 'helloworld.proto');
const pkgDef = protoLoader.loadSync(PROTO, {keepCase: true, longs: String, enums: String, defaults: true, oneofs: true});
const hw = grpc.loadPackageDefinition(pkgDef).helloworld;

const [mode, portArg, certFile, keyFile] = process.argv.slice(2);
const port = Number(portArg || 50051);

function server(creds) {
  const s = new grpc.Server();
  s.addService(hw.Greeter.service, {
    SayHello(call, cb) {
      if (!call.request.name) {
        cb({code: grpc.status.INVALID_ARGUMENT, details: 'name must not be empty'});
        return;
      }
      cb(null, {message: `Hello, ${call.request.name}!`});
    },
    Square(call, cb) {
      cb(null, {value: call.request.value * call.request.value});
    },
    SayHelloStream(call) {
      for (let i = 1; i <= 3; i++) call.write({message: `Hello #${i}, ${call.request.name}!`});
      call.end();
    },
  });
  s.bindAsync(`127.0.0.1:${port}`, creds, (err) => {
    if (err) throw err;
    console.log(`grpc-js Greeter on port ${port}`);
  });
  const stop = () => s.tryShutdown(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function unary(client, method, req) {
  return new Promise((resolve) => {
    client[method](req, (err, resp) => resolve({err, resp}));
  });
}

async function tlsClient() {
  const creds = grpc.credentials.createSsl(fs.readFileSync(certFile));
  const c = new hw.Greeter(`127.0.0.1:${port}`, creds, {
    'grpc.ssl_target_name_override': 'greeter.test',
    'grpc.default_authority': 'greeter.test',
  });
  {
    const {err, resp} = await unary(c, 'SayHello', {name: 'tls'});
    if (err) throw err;
    console.log('SayHello:', resp.message);
  }
  await new Promise((resolve, reject) => {
    const call = c.SayHelloStream({name: 'tls stream'});
    call.on('data', (r) => console.log('SayHelloStream:', r.message));
    call.on('error', reject);
    call.on('end', resolve);
  });
  {
    const {err} = await unary(c, 'SayHello', {name: ''});
    if (!err || err.code !== grpc.status.INVALID_ARGUMENT) throw new Error('expected INVALID_ARGUMENT, got ' + err);
    console.log('SayHello(""):', err.code, err.details);
  }
  c.close();
}

async function client() {
  const c = new hw.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  for (const name of ['Alice', 'Bob', 'Zoë']) {
    const {err, resp} = await unary(c, 'SayHello', {name});
    if (err) throw err;
    console.log('SayHello:', resp.message);
  }
  {
    const {err, resp} = await unary(c, 'Square', {value: 1.5});
    if (err) throw err;
    console.log('Square(1.5):', resp.value);
  }
  await new Promise((resolve, reject) => {
    const call = c.SayHelloStream({name: 'stream'});
    call.on('data', (r) => console.log('SayHelloStream:', r.message));
    call.on('error', reject);
    call.on('end', resolve);
  });
  {
    const {err} = await unary(c, 'SayHello', {name: ''});
    if (!err || err.code !== grpc.status.INVALID_ARGUMENT) throw new Error('expected INVALID_ARGUMENT, got ' + err);
    console.log('SayHello(""):', err.code, err.details);
  }
  c.close();
}

const fail = (e) => { console.error(e); process.exit(1); };
if (mode === 'server') server(grpc.ServerCredentials.createInsecure());
else if (mode === 'client') client().catch(fail);
else if (mode === 'tls-server' && keyFile) {
  server(grpc.ServerCredentials.createSsl(null, [{cert_chain: fs.readFileSync(certFile), private_key: fs.readFileSync(keyFile)}], false));
} else if (mode === 'tls-client' && certFile) tlsClient().catch(fail);
else { console.error('usage: node greeter.js server|client PORT, tls-server PORT CERT KEY, tls-client PORT CERT'); process.exit(2); }
