#!/usr/bin/env node
// Cross-verification harness over Digital Bazaar's Data Integrity implementation
// (@digitalbazaar/vc with the eddsa-jcs-2022 and eddsa-rdfc-2022 cryptosuites).
//
// Usage: node interop/di.mjs <command> [--suite NAME] < request.json > reply.json
//
//   issue --suite eddsa-jcs-2022|eddsa-rdfc-2022
//       request: {"credential": {...}, "key": {"publicKeyMultibase": "z6Mk...",
//                 "secretKeyMultibase": "z3u2..."}, "created"?: "2024-...Z"}
//       reply:   {"credential": {... with proof}}
//       The key's controller is its did:key; the proof's verificationMethod is
//       did:key:<key>#<key>.
//   verify
//       request: {"credential": {...}}
//       reply:   {"verified": true|false, "errors": ["..."]}
//   canonize
//       request: {"document": {...}}
//       reply:   {"nquads": "..."}  (RDFC-1.0 N-Quads, exactly as the rdfc suite
//                                    hashes them: jsonld safe mode, base null)
//
// Every request may also carry "contexts": {"<url>": {...}} with extra context
// documents. The document loader is offline: the packaged W3C contexts, those
// extra documents and did:key Ed25519 keys resolve; anything else throws. A failure
// exits with status 1 and {"error": "..."} on stdout.

import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as vc from '@digitalbazaar/vc';
import {
  createSignCryptosuite as createJcsSignCryptosuite,
  createVerifyCryptosuite as createJcsVerifyCryptosuite
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {
  contexts as credentialsContexts
} from '@digitalbazaar/credentials-context';
import {
  contexts as dataIntegrityContexts
} from '@digitalbazaar/data-integrity-context';
import {
  contexts as multikeyContexts
} from '@digitalbazaar/multikey-context';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {
  cryptosuite as eddsaRdfc2022CryptoSuite
} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const SUITES = ['eddsa-jcs-2022', 'eddsa-rdfc-2022'];

function packagedContexts() {
  const all = new Map();
  for(const map of [credentialsContexts, dataIntegrityContexts,
    multikeyContexts]) {
    for(const [url, document] of map) {
      all.set(url, document);
    }
  }
  return all;
}

async function resolveDidKey(url) {
  const [did, fragment] = url.split('#');
  const value = did.slice('did:key:'.length);
  if(!value.startsWith('z6Mk') || (fragment !== undefined && fragment !== value)) {
    throw new Error(`only Ed25519 did:key URLs resolve here: ${url}`);
  }
  const key = await Ed25519Multikey.from({
    '@context': 'https://w3id.org/security/multikey/v1',
    type: 'Multikey',
    id: `${did}#${value}`,
    controller: did,
    publicKeyMultibase: value
  });
  const verificationMethod = await key.export(
    {publicKey: true, includeContext: true});
  if(fragment !== undefined) {
    return verificationMethod;
  }
  const {'@context': _context, ...method} = verificationMethod;
  return {
    '@context': [
      'https://www.w3.org/ns/did/v1',
      'https://w3id.org/security/multikey/v1'
    ],
    id: did,
    verificationMethod: [method],
    authentication: [method.id],
    assertionMethod: [method.id],
    capabilityDelegation: [method.id],
    capabilityInvocation: [method.id]
  };
}

function makeDocumentLoader(extra = {}) {
  const contexts = packagedContexts();
  for(const [url, document] of Object.entries(extra)) {
    contexts.set(url, document);
  }
  return async url => {
    if(contexts.has(url)) {
      return {
        contextUrl: null,
        documentUrl: url,
        document: structuredClone(contexts.get(url))
      };
    }
    if(url.startsWith('did:key:')) {
      return {contextUrl: null, documentUrl: url,
        document: await resolveDidKey(url)};
    }
    throw new Error(`offline document loader: no document for ${url}`);
  };
}

function suiteArgument(args) {
  const index = args.indexOf('--suite');
  const name = index === -1 ? undefined : args[index + 1];
  if(!SUITES.includes(name)) {
    throw new Error(`--suite must be one of ${SUITES.join(', ')}`);
  }
  return name;
}

async function issue(request, args) {
  const name = suiteArgument(args);
  const {publicKeyMultibase, secretKeyMultibase} = request.key;
  const controller = `did:key:${publicKeyMultibase}`;
  const keyPair = await Ed25519Multikey.from({
    type: 'Multikey',
    id: `${controller}#${publicKeyMultibase}`,
    controller,
    publicKeyMultibase,
    secretKeyMultibase
  });
  const cryptosuite = name === 'eddsa-jcs-2022' ?
    createJcsSignCryptosuite() : eddsaRdfc2022CryptoSuite;
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), cryptosuite, date: request.created
  });
  const credential = await vc.issue({
    credential: request.credential,
    suite,
    documentLoader: makeDocumentLoader(request.contexts)
  });
  return {credential};
}

async function verify(request) {
  const suite = [
    new DataIntegrityProof({cryptosuite: createJcsVerifyCryptosuite()}),
    new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite})
  ];
  const result = await vc.verifyCredential({
    credential: request.credential,
    suite,
    documentLoader: makeDocumentLoader(request.contexts)
  });
  const errors = [];
  const collect = error => {
    if(!error) {
      return;
    }
    for(const item of error.errors ?? [error]) {
      errors.push(String(item?.message ?? item));
    }
  };
  collect(result.error);
  for(const proofResult of result.results ?? []) {
    collect(proofResult.error);
  }
  return {verified: result.verified === true, errors};
}

async function canonize(request) {
  const nquads = await eddsaRdfc2022CryptoSuite.canonize(request.document, {
    documentLoader: makeDocumentLoader(request.contexts)
  });
  return {nquads};
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  const commands = {issue, verify, canonize};
  if(!(command in commands)) {
    throw new Error('usage: di.mjs issue --suite NAME | verify | canonize');
  }
  const reply = await commands[command](await readStdin(), args);
  process.stdout.write(JSON.stringify(reply) + '\n');
}

main().catch(error => {
  process.stdout.write(JSON.stringify({error: String(error?.stack ?? error)}) +
    '\n');
  process.exitCode = 1;
});
