// Chain-only verification of a receipt, straight from the browser: the
// digest and the RFC 9162 root are recomputed here with WebCrypto's SHA-256
// (or, outside a secure context, the same in plain JavaScript), then one
// eth_call to the registry's verifyInclusion says who anchored the root and
// in which block. No credanchor node is asked.

// Function selectors: the first 4 bytes of keccak256 of the signatures
// (browsers have no keccak). A Go test checks them against Registry.abi.
export const VERIFY_INCLUSION_SELECTOR = "82c9321e"; // verifyInclusion(bytes32,uint64,uint64,bytes32[])
export const MEMBER_INFO_SELECTOR = "a313c371"; // memberInfo(address)

export const RECEIPT_TYPE = "CredanchorReceipt";
export const RECEIPT_VERSION = 1;

const MAX_PATH = 64;
const U64_MAX = (1n << 64n) - 1n;
const ZERO_ADDRESS = "0x" + "0".repeat(40);

/** @param {string} h 0x-prefixed hex */
export function hexToBytes(h, want) {
  if (typeof h !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(h)) {
    throw new Error("not 0x-prefixed hex: " + String(h).slice(0, 80));
  }
  const out = new Uint8Array((h.length - 2) / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(h.slice(2 + 2 * i, 4 + 2 * i), 16);
  }
  if (want !== undefined && out.length !== want) {
    throw new Error("got " + out.length + " bytes, want " + want + ": " + h.slice(0, 80));
  }
  return out;
}

/** @param {Uint8Array} b */
export function bytesToHex(b) {
  let s = "0x";
  for (const x of b) {
    s += x.toString(16).padStart(2, "0");
  }
  return s;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * sha256 hashes with WebCrypto, which a browser offers only in a secure
 * context (https, or a loopback address); elsewhere, as on a node served
 * over plain http on a LAN, with sha256JS.
 */
export async function sha256(bytes) {
  if (globalThis.crypto && crypto.subtle) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  return sha256JS(bytes);
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** sha256JS is FIPS 180-4 SHA-256 in plain JavaScript. */
export function sha256JS(bytes) {
  const n = bytes.length;
  const padded = new Uint8Array(((n + 9 + 63) >> 6) << 6);
  padded.set(bytes);
  padded[n] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setUint32(padded.length - 8, Math.floor(n / 0x20000000));
  dv.setUint32(padded.length - 4, (n << 3) >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, r) => (x >>> r) | (x << (32 - r));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) {
      w[i] = dv.getUint32(off + 4 * i);
    }
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[i] + w[i]) >>> 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  h.forEach((x, i) => ov.setUint32(4 * i, x));
  return out;
}

export const leafHash = (digest) => sha256(concat(Uint8Array.of(0), digest));
export const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

/** proofLength is the length of the audit path of index in a tree of size > index. */
export function proofLength(index, size) {
  let n = 0;
  for (let fn = index, sn = size - 1n; sn > 0n; fn >>= 1n, sn >>= 1n) {
    if ((fn & 1n) === 1n || fn < sn) {
      n++;
    }
  }
  return n;
}

/**
 * rootFromPath is the RFC 9162 root implied by the leaf with digest at
 * index in a tree of size and its inclusion proof (anchor/merkle's
 * RootFromInclusionProof).
 * @param {bigint} index
 * @param {bigint} size
 * @param {Uint8Array} digest
 * @param {Uint8Array[]} path
 */
export async function rootFromPath(index, size, digest, path) {
  if (index >= size) {
    throw new Error("leaf index " + index + " is outside the tree of size " + size);
  }
  const want = proofLength(index, size);
  if (path.length !== want) {
    throw new Error("path of " + path.length + " hashes, want " + want);
  }
  let r = await leafHash(digest);
  let fn = index;
  let sn = size - 1n;
  let i = 0;
  while (sn > 0n) {
    if ((fn & 1n) === 1n) {
      r = await nodeHash(path[i++], r);
    } else if (fn < sn) {
      r = await nodeHash(r, path[i++]);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return r;
}

/** digestOf is the credential digest of DESIGN.md for a pasted credential. */
export async function digestOf(credential) {
  if (credential.form === "jwt") {
    return sha256(new TextEncoder().encode(credential.jwt));
  }
  return sha256(credential.canonical);
}

function u64(v, name) {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new Error(name + " is not a whole number: " + JSON.stringify(v));
  }
  const b = BigInt(v);
  if (b > U64_MAX) {
    throw new Error(name + " does not fit 64 bits");
  }
  return b;
}

/**
 * parseReceipt checks a receipt's shape and returns it with its hashes as
 * bytes and its numbers as bigints.
 */
export function parseReceipt(r) {
  if (r === null || typeof r !== "object" || Array.isArray(r)) {
    throw new Error("the receipt is not a JSON object");
  }
  if (r.type !== RECEIPT_TYPE) {
    throw new Error("receipt type " + JSON.stringify(r.type) + ", want " + RECEIPT_TYPE);
  }
  if (r.version !== RECEIPT_VERSION) {
    throw new Error("receipt version " + JSON.stringify(r.version) + ", want " + RECEIPT_VERSION);
  }
  if (!Array.isArray(r.path) || r.path.length > MAX_PATH) {
    throw new Error("the receipt's path is not a list of at most " + MAX_PATH + " hashes");
  }
  const out = {
    digest: hexToBytes(r.digest, 32),
    leafIndex: u64(r.leafIndex, "leafIndex"),
    treeSize: u64(r.treeSize, "treeSize"),
    path: r.path.map((h) => hexToBytes(h, 32)),
    root: hexToBytes(r.root, 32),
    chainId: u64(r.chainId, "chainId"),
    contract: bytesToHex(hexToBytes(r.contract, 20)),
    txHash: r.txHash,
    blockNumber: u64(r.blockNumber, "blockNumber"),
    member: bytesToHex(hexToBytes(r.member, 20)),
  };
  if (out.chainId === 0n) {
    throw new Error("the receipt has no chainId");
  }
  if (out.contract === ZERO_ADDRESS) {
    throw new Error("the receipt has no contract");
  }
  return out;
}

// ABI encoding, by hand: static words of 32 bytes, dynamic data after the
// head at the offset the head names.
function word(n) {
  return bigToBytes(BigInt(n), 32);
}

function bigToBytes(n, len) {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function bytesToBig(b) {
  let n = 0n;
  for (const x of b) {
    n = (n << 8n) | BigInt(x);
  }
  return n;
}

/** encodeVerifyInclusion is the calldata of verifyInclusion(digest, leafIndex, treeSize, path). */
export function encodeVerifyInclusion(digest, leafIndex, treeSize, path) {
  return bytesToHex(concat(hexToBytes("0x" + VERIFY_INCLUSION_SELECTOR), digest, word(leafIndex), word(treeSize), word(4 * 32), word(path.length), ...path));
}

/** decodeVerifyInclusion decodes (bytes32 root, address member, uint64 blockNumber). */
export function decodeVerifyInclusion(hex) {
  const b = hexToBytes(hex);
  if (b.length < 96) {
    throw new Error("verifyInclusion answered " + b.length + " bytes, want 96");
  }
  return {
    root: b.slice(0, 32),
    member: bytesToHex(b.slice(44, 64)),
    blockNumber: bytesToBig(b.slice(64, 96)),
  };
}

export function encodeMemberInfo(member) {
  return bytesToHex(concat(hexToBytes("0x" + MEMBER_INFO_SELECTOR), new Uint8Array(12), hexToBytes(member, 20)));
}

/** decodeMemberInfo decodes (string did, string name, bool active). */
export function decodeMemberInfo(hex) {
  const b = hexToBytes(hex);
  const at = (off) => {
    if (off + 32 > b.length) {
      throw new Error("memberInfo's answer is too short");
    }
    return Number(bytesToBig(b.slice(off, off + 32)));
  };
  const str = (headOff) => {
    const off = at(headOff);
    const len = at(off);
    if (off + 32 + len > b.length) {
      throw new Error("memberInfo's answer is too short");
    }
    return new TextDecoder().decode(b.slice(off + 32, off + 32 + len));
  };
  return { did: str(0), name: str(32), active: at(64) === 1 };
}

let rpcID = 0;

/** rpc makes one JSON-RPC call. */
export async function rpc(url, method, params) {
  let resp;
  try {
    resp = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcID, method, params }),
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch (err) {
    throw new Error(method + ": the RPC cannot be reached from this page (is it up, and does it allow this page's origin by CORS?): " + err.message);
  }
  if (!resp.ok) {
    throw new Error(method + ": the RPC answered HTTP " + resp.status);
  }
  const body = await resp.json();
  if (body.error) {
    throw new Error(method + ": " + (body.error.message || JSON.stringify(body.error)));
  }
  return body.result;
}

const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * verifyOnChain checks a credential and its receipt against a chain RPC.
 * It returns the checks, each {check, ok, detail}, in the order made; it
 * stops at the first that fails. facts has what the chain said.
 * @param {{form: string, canonical?: Uint8Array, jwt?: string, issuer?: string}} credential
 * @param {object} receiptJSON
 * @param {string} url
 * @param {string} [wantRegistry] the consortium's registry, if the person knows it
 */
export async function verifyOnChain(credential, receiptJSON, url, wantRegistry) {
  const checks = [];
  const facts = {};
  const pass = (check, detail) => checks.push({ check, ok: true, detail });
  const fail = (check, detail) => {
    checks.push({ check, ok: false, detail });
    return { checks, facts, verified: false };
  };
  let rc;
  try {
    rc = parseReceipt(receiptJSON);
  } catch (err) {
    return fail("receipt", err.message);
  }
  pass("receipt", "receipt for leaf " + rc.leafIndex + " of " + rc.treeSize + " on chain " + rc.chainId + ", registry " + rc.contract);
  facts.receipt = rc;

  const digest = await digestOf(credential);
  const basis = credential.form === "jwt" ? "VC-JWT compact serialisation" : "credential's JCS (RFC 8785) form";
  if (!eq(digest, rc.digest)) {
    return fail("digest", "SHA-256 of the " + basis + " is " + bytesToHex(digest) + ", but the receipt is for " + bytesToHex(rc.digest));
  }
  pass("digest", "SHA-256 of the " + basis + " is " + bytesToHex(digest) + ", as the receipt says");

  let root;
  try {
    root = await rootFromPath(rc.leafIndex, rc.treeSize, rc.digest, rc.path);
  } catch (err) {
    return fail("inclusion", err.message);
  }
  if (!eq(root, rc.root)) {
    return fail("inclusion", "the path leads to root " + bytesToHex(root) + ", not the receipt's " + bytesToHex(rc.root));
  }
  pass("inclusion", "leaf " + rc.leafIndex + " of " + rc.treeSize + " leads to root " + bytesToHex(root) + " (computed here)");

  if (wantRegistry) {
    let want;
    try {
      want = bytesToHex(hexToBytes(wantRegistry.trim(), 20));
    } catch (err) {
      return fail("registry", "the registry entered is not an address: " + err.message);
    }
    if (want !== rc.contract) {
      return fail("registry", "the receipt names registry " + rc.contract + ", not the consortium's " + want);
    }
    pass("registry", "the receipt names the consortium's registry " + want);
  }

  let chainId;
  try {
    chainId = BigInt(await rpc(url, "eth_chainId", []));
  } catch (err) {
    return fail("chain", err.message);
  }
  if (chainId !== rc.chainId) {
    return fail("chain", "the RPC serves chain " + chainId + ", the receipt names " + rc.chainId);
  }
  pass("chain", "the RPC serves chain " + chainId + ", as the receipt says");

  let res;
  try {
    const out = await rpc(url, "eth_call", [{ to: rc.contract, data: encodeVerifyInclusion(rc.digest, rc.leafIndex, rc.treeSize, rc.path) }, "latest"]);
    res = decodeVerifyInclusion(out);
  } catch (err) {
    return fail("anchored-on-chain", "verifyInclusion: " + err.message);
  }
  if (res.member === ZERO_ADDRESS) {
    return fail("anchored-on-chain", "the registry has no anchor of root " + bytesToHex(res.root) + " for a tree of " + rc.treeSize);
  }
  if (!eq(res.root, rc.root)) {
    return fail("anchored-on-chain", "the contract computed root " + bytesToHex(res.root) + ", the receipt has " + bytesToHex(rc.root));
  }
  if (res.member !== rc.member) {
    return fail("anchored-on-chain", "the chain says " + res.member + " anchored the root, the receipt says " + rc.member);
  }
  facts.root = bytesToHex(res.root);
  facts.member = res.member;
  facts.blockNumber = res.blockNumber;
  let detail = "root anchored in block " + res.blockNumber + " by " + res.member;
  try {
    const [head, block] = await Promise.all([
      rpc(url, "eth_blockNumber", []),
      rpc(url, "eth_getBlockByNumber", ["0x" + res.blockNumber.toString(16), false]),
    ]);
    const h = BigInt(head);
    facts.confirmations = h >= res.blockNumber ? h - res.blockNumber + 1n : 0n;
    if (block && block.timestamp) {
      facts.blockTime = new Date(Number(BigInt(block.timestamp)) * 1000);
      detail += " at " + facts.blockTime.toISOString().replace(".000Z", "Z");
    }
    detail += ", " + facts.confirmations + (facts.confirmations === 1n ? " confirmation" : " confirmations");
  } catch (err) {
    detail += " (block time unknown: " + err.message + ")";
  }
  pass("anchored-on-chain", detail);

  let info;
  try {
    info = decodeMemberInfo(await rpc(url, "eth_call", [{ to: rc.contract, data: encodeMemberInfo(res.member) }, "latest"]));
  } catch (err) {
    return fail("member-at-anchor", "memberInfo: " + err.message);
  }
  facts.memberDid = info.did;
  facts.memberName = info.name;
  facts.memberActive = info.active;
  if (!info.did) {
    return fail("member-at-anchor", res.member + " is not a consortium member");
  }
  if (credential.issuer !== info.did) {
    return fail("member-at-anchor", "anchored by " + info.name + " (" + info.did + "), but the credential names issuer " + (credential.issuer || "none"));
  }
  const state = info.active ? "an active member" : "a former member (anchors made while it was a member stay valid)";
  pass("member-at-anchor", "anchored by " + info.name + " (" + info.did + ", " + res.member + "), the issuer the credential names, " + state);
  return { checks, facts, verified: checks.every((c) => c.ok) };
}
