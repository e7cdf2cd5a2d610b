#!/usr/bin/env node
// Cross-verification harness over the OpenWallet Foundation SD-JWT implementation
// (@sd-jwt/sd-jwt-vc with @sd-jwt/crypto-nodejs for hashing and salts).
//
// Usage: node interop/sdjwt.mjs <command> < request.json > reply.json
//
//   issue
//       request: {"key": <private JWK>, "alg": "ES256"|"EdDSA", "kid"?: "...",
//                 "payload": {...}, "disclosureFrame": {"_sd": [...], ...}}
//       reply:   {"sdJwt": "<issuer-signed JWT>~<disclosure>~...~"}
//       The header carries typ "dc+sd-jwt", the alg and the kid.
//   present
//       request: {"sdJwt": "...", "presentationFrame": {"name": true, ...},
//                 "holderKey": <private JWK>, "alg": "ES256"|"EdDSA",
//                 "aud": "...", "nonce": "...", "iat": <seconds>}
//       reply:   {"presentation": "...~<KB-JWT>"}
//   verify
//       request: {"presentation": "...", "issuerKey": <public JWK>,
//                 "aud": "...", "nonce": "...", "now": <seconds>}
//       reply:   {"payload": {... disclosed claims}, "header": {...},
//                 "kb": {"header": {...}, "payload": {...}}}
//       Key binding is required: the KB-JWT is verified with the holder key in
//       the payload's cnf.jwk, and its nonce and aud must be the expected ones.
//
// Everything is offline: the issuer key comes in the request, and a status list
// reference fails (no fetcher). A failure exits with status 1 and
// {"error": "..."} on stdout.

import {createPrivateKey, createPublicKey, sign, verify} from 'node:crypto';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {digest, generateSalt} from '@sd-jwt/crypto-nodejs';

const ALGORITHMS = {
  // node:crypto names the digest for ECDSA; Ed25519 takes none. JOSE ECDSA
  // signatures are r || s, not DER.
  ES256: {digest: 'sha256', options: {dsaEncoding: 'ieee-p1363'}},
  EdDSA: {digest: null, options: {}}
};

function algorithm(alg) {
  const found = ALGORITHMS[alg];
  if(!found) {
    throw new Error(`unsupported alg ${alg}`);
  }
  return found;
}

function signer(jwk, alg) {
  const {digest: hash, options} = algorithm(alg);
  const key = createPrivateKey({key: jwk, format: 'jwk'});
  return async data => sign(hash, Buffer.from(data), {key, ...options})
    .toString('base64url');
}

function verifier(jwk, alg) {
  const {digest: hash, options} = algorithm(alg);
  const key = createPublicKey({key: publicOnly(jwk), format: 'jwk'});
  return async (data, signature) => verify(
    hash, Buffer.from(data), {key, ...options},
    Buffer.from(signature, 'base64url'));
}

function publicOnly(jwk) {
  const {d: _secret, ...rest} = jwk;
  return rest;
}

function algOf(jwt) {
  const header = JSON.parse(
    Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'));
  return header.alg;
}

async function offlineStatus(uri) {
  throw new Error(`offline harness: will not fetch status list ${uri}`);
}

const HASHER = {hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt};

async function issue(request) {
  const sdjwt = new SDJwtVcInstance({
    ...HASHER,
    signer: signer(request.key, request.alg),
    signAlg: request.alg
  });
  const header = {typ: 'dc+sd-jwt'};
  if(request.kid) {
    header.kid = request.kid;
  }
  const sdJwt = await sdjwt.issue(
    request.payload, request.disclosureFrame, {header});
  return {sdJwt};
}

async function present(request) {
  const sdjwt = new SDJwtVcInstance({
    ...HASHER,
    kbSigner: signer(request.holderKey, request.alg),
    kbSignAlg: request.alg
  });
  const presentation = await sdjwt.present(
    request.sdJwt, request.presentationFrame, {
      kb: {
        payload: {iat: request.iat, aud: request.aud, nonce: request.nonce}
      }
    });
  return {presentation};
}

async function verifyPresentation(request) {
  const issuerJwt = request.presentation.split('~')[0];
  const sdjwt = new SDJwtVcInstance({
    ...HASHER,
    verifier: verifier(request.issuerKey, algOf(issuerJwt)),
    kbVerifier: async (data, signature, payload) => {
      const holderKey = payload?.cnf?.jwk;
      if(!holderKey) {
        throw new Error('no cnf.jwk in the issuer-signed payload');
      }
      const kbJwt = request.presentation.split('~').at(-1);
      return verifier(holderKey, algOf(kbJwt))(data, signature);
    },
    statusListFetcher: offlineStatus
  });
  const result = await sdjwt.verify(request.presentation, {
    keyBindingNonce: request.nonce,
    currentDate: request.now
  });
  if(!result.kb) {
    throw new Error('no key binding');
  }
  if(result.kb.payload.aud !== request.aud) {
    throw new Error(`KB-JWT aud ${result.kb.payload.aud} is not ${request.aud}`);
  }
  if(result.header?.typ !== 'dc+sd-jwt') {
    throw new Error(`typ ${result.header?.typ} is not dc+sd-jwt`);
  }
  return {payload: result.payload, header: result.header, kb: result.kb};
}

const COMMANDS = {issue, present, verify: verifyPresentation};

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function main() {
  const command = COMMANDS[process.argv[2]];
  if(!command) {
    throw new Error(`usage: sdjwt.mjs ${Object.keys(COMMANDS).join('|')}`);
  }
  const reply = await command(await readStdin());
  process.stdout.write(JSON.stringify(reply) + '\n');
}

main().catch(error => {
  process.stdout.write(JSON.stringify({error: String(error?.stack ?? error)}) +
    '\n');
  process.exitCode = 1;
});
