// Makes testdata/vc-jcs-digitalbazaar.json: an eddsa-jcs-2022 credential and a presentation
// holding it, signed by Digital Bazaar's JavaScript libraries (@digitalbazaar/vc,
// @digitalbazaar/data-integrity, @digitalbazaar/eddsa-jcs-2022-cryptosuite), an implementation
// independent of jejak's. Run once with `node scripts/vc-jcs-vectors.mjs` after `make deps`;
// the output is committed, so the tests never need npm. Keys come from fixed seeds and every
// time is fixed, so running it again gives the same file.
import {writeFileSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {dirname, join} from 'node:path';

import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createSignCryptosuite, createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {securityLoader} from '@digitalbazaar/security-document-loader';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'testdata', 'vc-jcs-digitalbazaar.json');
const documentLoader = securityLoader().build();

async function didKeyPair(seedByte) {
  const seed = new Uint8Array(32).fill(seedByte);
  const generated = await Ed25519Multikey.generate({seed});
  const did = `did:key:${generated.publicKeyMultibase}`;
  const exported = await generated.export({publicKey: true, secretKey: true, includeContext: true});
  const keyPair = await Ed25519Multikey.from({
    ...exported, controller: did, id: `${did}#${generated.publicKeyMultibase}`
  });
  return {did, keyPair};
}

const issuer = await didKeyPair(0x11);
const holder = await didKeyPair(0x22);

const credential = {
  '@context': ['https://www.w3.org/ns/credentials/v2'],
  id: 'urn:uuid:2f0f2e6a-6d0b-4c52-9a34-7b2f6f2b1a01',
  type: ['VerifiableCredential', 'GigHistoryCredential'],
  issuer: issuer.did,
  validFrom: '2026-01-01T00:00:00Z',
  credentialSubject: {
    id: holder.did,
    completedGigs: 57,
    platform: 'an independent platform'
  }
};

const signedCredential = await vc.issue({
  credential,
  suite: new DataIntegrityProof({
    signer: issuer.keyPair.signer(), cryptosuite: createSignCryptosuite(), date: '2026-01-02T03:04:05Z'
  }),
  documentLoader
});

const challenge = 'a3c9b1d2-jejak-vc-api-test-challenge';
const domain = 'verifier.example';
const presentation = vc.createPresentation({verifiableCredential: [signedCredential], holder: holder.did});
presentation.id = 'urn:uuid:7d4c1a52-3f7e-4a9b-8c11-5a6b7c8d9e0f';
const signedPresentation = await vc.signPresentation({
  presentation,
  suite: new DataIntegrityProof({
    signer: holder.keyPair.signer(), cryptosuite: createSignCryptosuite(), date: '2026-01-02T03:04:06Z'
  }),
  challenge,
  domain,
  documentLoader
});

// The library's own verifier must accept both before they are written down.
const verifySuite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});
const vcResult = await vc.verifyCredential({credential: signedCredential, suite: verifySuite, documentLoader});
if(!vcResult.verified) {
  throw new Error(`credential does not verify: ${JSON.stringify(vcResult, null, 2)}`);
}
const vpResult = await vc.verify({
  presentation: signedPresentation, suite: verifySuite, challenge, domain, documentLoader
});
if(!vpResult.verified) {
  throw new Error(`presentation does not verify: ${JSON.stringify(vpResult, null, 2)}`);
}

const version = name => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
const libraries = {};
for(const name of [
  '@digitalbazaar/vc', '@digitalbazaar/data-integrity', '@digitalbazaar/eddsa-jcs-2022-cryptosuite',
  '@digitalbazaar/ed25519-multikey', '@digitalbazaar/security-document-loader'
]) {
  libraries[name] = version(name);
}
const vector = {
  source: 'made by scripts/vc-jcs-vectors.mjs with Digital Bazaar\'s JavaScript libraries (see libraries)',
  libraries,
  issuer: issuer.did,
  holder: holder.did,
  credential: signedCredential,
  presentation: signedPresentation,
  challenge,
  domain
};
writeFileSync(out, JSON.stringify(vector, null, 2) + '\n');
console.log(`wrote ${out}`);
