// The verifier page: reads what the person dropped or pasted, asks this
// node (POST /v1/verify, /presentations/verify) or, in the chain-only
// mode, a chain RPC of their choice, and shows every check.
import { canonicalize } from "./jcs.js";
import { verifyOnChain, bytesToHex, digestOf, RECEIPT_TYPE } from "./chain.js";

const $ = (id) => document.getElementById(id);

// CHANNEL marks the page's API calls, which the node's stats count apart.
const CHANNEL = { "X-Credanchor-Channel": "page" };

const CHECK_LABELS = {
  receipt: "Receipt",
  digest: "Digest",
  structure: "Structure",
  proof: "Proof",
  issuer: "Issuer DID",
  validity: "Validity period",
  inclusion: "Merkle inclusion",
  registry: "Registry",
  chain: "Chain",
  "anchored-on-chain": "Anchor on chain",
  "member-at-anchor": "Consortium member",
  status: "Status (revocation, suspension)",
  presentation: "Presentation",
  "holder-proof": "Holder proof",
  challenge: "Challenge",
  "holder-is-subject": "Holder is the subject",
};

const PRESENTATION_CHECKS = ["presentation", "holder-proof", "challenge", "holder-is-subject"];

// The RPC URL and registry last used are kept in this browser only.
const RPC_KEY = "credanchor.rpcUrl";
const REGISTRY_KEY = "credanchor.registry";

// ---- reading input ----

/** b64urlText decodes base64url to text. */
function b64urlText(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  const bin = atob(b64);
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function types(v) {
  if (typeof v === "string") {
    return [v];
  }
  return Array.isArray(v) ? v.filter((t) => typeof t === "string") : [];
}

/**
 * credentialFrom reads a credential: a JSON object or a VC-JWT.
 * @returns {{form: string, value: object, canonical?: Uint8Array, jwt?: string, issuer: string}}
 */
function credentialFrom(text) {
  text = text.trim();
  if (JWT_RE.test(text)) {
    let payload;
    try {
      payload = JSON.parse(b64urlText(text.split(".")[1]));
    } catch {
      throw new Error("the VC-JWT's payload is not JSON");
    }
    const value = payload && typeof payload.vc === "object" ? payload.vc : payload;
    return { form: "jwt", jwt: text, value, issuer: issuerID(value) || (typeof payload.iss === "string" ? payload.iss : "") };
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error("neither JSON nor a VC-JWT: " + err.message);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error("a credential is a JSON object or a VC-JWT");
  }
  return { form: "json", value, canonical: new TextEncoder().encode(canonicalize(value)), issuer: issuerID(value) };
}

function issuerID(cred) {
  const iss = cred && cred.issuer;
  if (typeof iss === "string") {
    return iss;
  }
  return iss && typeof iss.id === "string" ? iss.id : "";
}

/** classify tells what a pasted or dropped text is. */
function classify(text) {
  const t = text.trim();
  if (JWT_RE.test(t)) {
    return "credential";
  }
  try {
    const v = JSON.parse(t);
    if (v && v.type === RECEIPT_TYPE) {
      return "receipt";
    }
    if (v && types(v.type).includes("VerifiablePresentation")) {
      return "presentation";
    }
  } catch {
    // Not JSON: let the verification say so.
  }
  return "credential";
}

/** presentedCredentials are a presentation's credentials, read as credentialFrom reads them. */
function presentedCredentials(vp) {
  const list = Array.isArray(vp.verifiableCredential) ? vp.verifiableCredential : vp.verifiableCredential ? [vp.verifiableCredential] : [];
  return list.map((c) => {
    if (typeof c === "string") {
      return credentialFrom(c);
    }
    if (c && typeof c.id === "string" && c.id.startsWith("data:application/vc+jwt,")) {
      return credentialFrom(c.id.slice("data:application/vc+jwt,".length));
    }
    return credentialFrom(JSON.stringify(c));
  });
}

// ---- building the result ----

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k === "class") {
      e.className = v;
    } else if (k.startsWith("data-")) {
      e.setAttribute(k, String(v));
    } else {
      e.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) {
      continue;
    }
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

/** text returns a display string of a JSON value that may be a string or a language map. */
function text(v) {
  if (typeof v === "string") {
    return v;
  }
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const first = Object.values(v).find((x) => typeof x === "string");
    if (first) {
      return first;
    }
  }
  return "";
}

function safeLink(url, label) {
  if (typeof url === "string" && /^https?:\/\//i.test(url)) {
    return el("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, label || url);
  }
  return label || (typeof url === "string" ? url : "");
}

function dl(rows) {
  const list = el("dl", { class: "facts" });
  for (const [k, v, key] of rows) {
    if (v === undefined || v === null || v === "") {
      continue;
    }
    list.append(el("div", { "data-fact": key }, el("dt", {}, k), el("dd", {}, v)));
  }
  return list;
}

function achievementCard(cred) {
  const subjects = Array.isArray(cred.credentialSubject) ? cred.credentialSubject : [cred.credentialSubject || {}];
  const subject = subjects[0] || {};
  const a = subject.achievement || {};
  const card = el("section", { class: "card achievement", "aria-labelledby": "achievement-title" });
  const title = text(a.name) || text(cred.name) || "Credential";
  card.append(el("h3", { id: "achievement-title", "data-field": "achievement-name" }, title));
  const img = a.image || cred.image;
  const imgURL = typeof img === "string" ? img : img && typeof img.id === "string" ? img.id : "";
  if (imgURL.startsWith("data:image/")) {
    card.append(el("img", { src: imgURL, alt: text(img && img.caption) || "Image of " + title, class: "badge-image", "data-field": "achievement-image" }));
  } else if (imgURL) {
    card.append(el("p", { class: "help" }, "Image, not loaded by this page: ", safeLink(imgURL)));
  }
  if (text(a.description)) {
    card.append(el("p", { "data-field": "achievement-description" }, text(a.description)));
  }
  const criteria = a.criteria || {};
  const crit = text(criteria.narrative);
  card.append(
    dl([
      ["Criteria", crit || (criteria.id ? safeLink(criteria.id) : ""), "criteria"],
      ["Credential", text(cred.name) !== title ? text(cred.name) : "", "credential-name"],
      ["Achievement id", typeof a.id === "string" ? a.id : "", "achievement-id"],
      ["Awarded to", typeof subject.id === "string" ? subject.id : "", "subject"],
      ["Valid from", cred.validFrom || cred.issuanceDate, "valid-from"],
      ["Valid until", cred.validUntil || cred.expirationDate, "valid-until"],
    ]),
  );
  return card;
}

function issuerCard(cred, anchor) {
  const iss = cred.issuer;
  const name = iss && typeof iss === "object" ? text(iss.name) : "";
  const card = el("section", { class: "card issuer", "aria-labelledby": "issuer-title" }, el("h3", { id: "issuer-title" }, "Issuer"));
  card.append(
    dl([
      ["Name", name, "issuer-name"],
      ["DID", issuerID(cred), "issuer-did"],
    ]),
  );
  if (anchor && anchor.member) {
    let membership = "not a consortium member";
    if (anchor.memberDid) {
      membership = anchor.memberActive ? "active consortium member" : "former consortium member (its anchors stay valid)";
    }
    card.append(
      el("h4", {}, "Consortium membership"),
      dl([
        ["Member", anchor.memberName, "member-name"],
        ["Member DID", anchor.memberDid, "member-did"],
        ["Member address", anchor.member, "member"],
        ["Membership", membership, "membership"],
      ]),
    );
  }
  return card;
}

function anchorCard(anchor, receipt) {
  if (!anchor && !receipt) {
    return null;
  }
  const a = anchor || {};
  const r = receipt || {};
  const time = a.blockTime ? (a.blockTime instanceof Date ? a.blockTime.toISOString().replace(".000Z", "Z") : a.blockTime) : "";
  return el(
    "section",
    { class: "card anchor", "aria-labelledby": "anchor-title" },
    el("h3", { id: "anchor-title" }, "Anchor"),
    dl([
      ["Block", a.blockNumber !== undefined ? String(a.blockNumber) : "", "block"],
      ["Confirmations", a.confirmations !== undefined ? String(a.confirmations) : "", "confirmations"],
      ["Time", time, "block-time"],
      ["Anchored by", a.member ? (a.memberName ? a.memberName + " (" + a.member + ")" : a.member) : "", "anchored-by"],
      ["Batch root", a.root || r.root, "root"],
      ["Chain", r.chainId !== undefined ? String(r.chainId) : "", "chain-id"],
      ["Registry", r.contract, "contract"],
      ["Transaction", r.txHash, "tx"],
      ["Leaf", r.leafIndex !== undefined ? r.leafIndex + " of " + r.treeSize : "", "leaf"],
    ]),
  );
}

const STATUS_WORDS = { revocation: "revoked", suspension: "suspended" };

function statusCard(status) {
  if (!status || status.length === 0) {
    return null;
  }
  const list = el("ul", { class: "status-list" });
  for (const s of status) {
    const word = STATUS_WORDS[s.purpose] || s.purpose;
    let state;
    if (!s.valid) {
      state = "cannot be checked: " + (s.error || "unknown error");
    } else if (s.status !== 0) {
      state = word;
    } else {
      state = "not " + word;
    }
    list.append(
      el(
        "li",
        { "data-purpose": s.purpose, "data-status": s.valid ? (s.status !== 0 ? word : "clear") : "unknown" },
        el("strong", {}, s.purpose + ": "),
        state,
        el("span", { class: "help" }, " (entry " + s.index + ", list " + (s.anchor || "not anchored") + ")"),
      ),
    );
  }
  return el("section", { class: "card status", "aria-labelledby": "status-title" }, el("h3", { id: "status-title" }, "Status"), list);
}

function checksList(checks, scope) {
  const list = el("ul", { class: "checks", "data-scope": scope });
  for (const c of checks) {
    list.append(
      el(
        "li",
        { "data-check": c.check, "data-ok": c.ok ? "true" : "false", class: c.ok ? "ok" : "bad" },
        el("span", { class: "mark", "aria-hidden": "true" }, c.ok ? "✓" : "✗"),
        el("span", { class: "check-name" }, CHECK_LABELS[c.check] || c.check),
        el("span", { class: "outcome" }, c.ok ? "passed" : "failed"),
        el("p", { class: "detail" }, c.detail || ""),
      ),
    );
  }
  return list;
}

function checksCard(checks, scope, title) {
  const id = "checks-title-" + scope;
  return el("section", { class: "card", "aria-labelledby": id }, el("h3", { id }, title), checksList(checks, scope));
}

/** verdictOf names a credential verdict: verified, revoked, suspended or failed. */
function verdictOf(verified, checks) {
  if (verified) {
    return "verified";
  }
  const status = checks.find((c) => c.check === "status" && !c.ok);
  if (status && /revoked/.test(status.detail)) {
    return "revoked";
  }
  if (status && /suspended/.test(status.detail)) {
    return "suspended";
  }
  return "failed";
}

const VERDICT_TEXT = {
  verified: ["Verified", "Every check passed."],
  failed: ["Not verified", "A check failed; see which below."],
  revoked: ["Revoked", "The issuer has revoked this credential."],
  suspended: ["Suspended", "The issuer has suspended this credential."],
  error: ["Could not verify", ""],
};

function verdictBanner(verdict, note) {
  const [head, body] = VERDICT_TEXT[verdict];
  return el("div", { class: "verdict verdict-" + verdict, id: "verdict", "data-verdict": verdict }, el("p", { class: "verdict-head" }, head), el("p", {}, note || body));
}

// ---- running a verification ----

async function api(path, body) {
  const resp = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, application/problem+json", ...CHANNEL },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = null;
  try {
    data = await resp.json();
  } catch {
    // A body that is not JSON is reported by status below.
  }
  return { status: resp.status, data };
}

class ProblemError extends Error {}

function problemMessage(status, data) {
  if (data && (data.title || data.detail)) {
    return [data.title, data.detail].filter(Boolean).join(": ");
  }
  return "the node answered HTTP " + status;
}

function readReceipt() {
  const t = $("receipt").value.trim();
  if (!t) {
    return null;
  }
  try {
    return JSON.parse(t);
  } catch (err) {
    throw new ProblemError("the receipt is not JSON: " + err.message);
  }
}

async function verifyCredentialWithNode(cred, receipt) {
  const body = { credential: cred.form === "jwt" ? cred.jwt : cred.value };
  if (receipt) {
    body.receipt = receipt;
  }
  const { status, data } = await api("/v1/verify", body);
  if (status !== 200 || !data || !Array.isArray(data.checks)) {
    throw new ProblemError(problemMessage(status, data));
  }
  const verdict = verdictOf(data.verified, data.checks);
  return [
    verdictBanner(verdict),
    el("div", { class: "cards" }, achievementCard(cred.value), issuerCard(cred.value, data.anchor)),
    checksCard(data.checks, "credential", "Checks"),
    statusCard(data.status),
    anchorCard(data.anchor, data.receipt),
  ];
}

async function verifyPresentationWithNode(vp) {
  const body = { verifiablePresentation: vp };
  const challenge = $("challenge").value.trim();
  const domain = $("domain").value.trim();
  if (challenge || domain) {
    body.options = {};
    if (challenge) {
      body.options.challenge = challenge;
    }
    if (domain) {
      body.options.domain = domain;
    }
  }
  const { status, data } = await api("/presentations/verify", body);
  if ((status !== 200 && status !== 400) || !data || typeof data.verified !== "boolean") {
    throw new ProblemError(problemMessage(status, data));
  }
  let creds = [];
  try {
    creds = presentedCredentials(vp);
  } catch {
    // The node's verdict says what is wrong with them.
  }
  const own = (data.checks || []).map((check) => ({ check, ok: true, detail: "" }));
  for (const e of data.errors || []) {
    if (PRESENTATION_CHECKS.includes(e.check) && !/^credential \d+: /.test(e.detail)) {
      own.push({ check: e.check, ok: false, detail: e.detail });
    }
  }
  own.sort((a, b) => PRESENTATION_CHECKS.indexOf(a.check) - PRESENTATION_CHECKS.indexOf(b.check));
  const results = data.credentials || [];
  const anyRevoked = results.some((r) => verdictOf(r.verified, r.checks || []) === "revoked");
  const verdict = data.verified ? "verified" : anyRevoked ? "revoked" : "failed";
  const out = [
    verdictBanner(verdict, data.verified ? "The holder's proof and every credential verified." : undefined),
    el("section", { class: "card", "aria-labelledby": "holder-title" }, el("h3", { id: "holder-title" }, "Holder"), dl([["Holder", data.holder, "holder"]])),
    checksCard(own, "presentation", "Presentation checks"),
  ];
  results.forEach((r, i) => {
    const value = creds[i] ? creds[i].value : {};
    const v = verdictOf(r.verified, r.checks || []);
    out.push(
      el(
        "section",
        { class: "presented", "data-credential": i, "data-verdict": v, "aria-label": "Credential " + (i + 1) },
        el("h3", {}, "Credential " + (i + 1) + ": " + VERDICT_TEXT[v][0]),
        el("div", { class: "cards" }, achievementCard(value), issuerCard(value, r.anchor)),
        checksCard(r.checks || [], "credential-" + i, "Checks"),
        componentsCard(r.components, results, i),
        anchorCard(r.anchor, r.receipt),
      ),
    );
  });
  return out;
}

/** componentsCard lists the components a roll-up names as evidence, and which credential of the presentation is each. */
function componentsCard(components, results, i) {
  if (!components || components.length === 0) {
    return null;
  }
  const rows = components.map((c, j) => {
    const at = results.findIndex((r) => r.digest === c.digest);
    let state = "not presented";
    if (c.presented) {
      state = "credential " + (at + 1) + ", " + (c.verified ? "verified" : "NOT verified");
    }
    return [c.digest, state, "component-" + i + "-" + j];
  });
  const id = "components-title-" + i;
  return el("section", { class: "card", "aria-labelledby": id }, el("h3", { id }, "Components of this pathway"), dl(rows));
}

/** localValidity checks a credential's validity period here, for the chain-only mode. */
function localValidity(cred) {
  const v = cred.value || {};
  const now = new Date();
  const from = v.validFrom || v.issuanceDate;
  const until = v.validUntil || v.expirationDate;
  if (from && !(new Date(from) <= now)) {
    return { check: "validity", ok: false, detail: "not valid before " + from };
  }
  if (until && !(now <= new Date(until))) {
    return { check: "validity", ok: false, detail: "expired at " + until };
  }
  return { check: "validity", ok: true, detail: "valid now (" + (from ? "from " + from : "no start") + ", " + (until ? "until " + until : "no end") + ")" };
}

async function verifyWithChain(input, receipt) {
  const url = $("rpc-url").value.trim();
  if (!/^https?:\/\//i.test(url)) {
    throw new ProblemError("enter the chain's RPC URL (http or https)");
  }
  try {
    localStorage.setItem(RPC_KEY, url);
    localStorage.setItem(REGISTRY_KEY, $("registry").value.trim());
  } catch {
    // Storage may be off; the URL is only a convenience.
  }
  let items;
  if (input.kind === "presentation") {
    const receipts = Array.isArray(input.value.credanchorReceipts) ? input.value.credanchorReceipts : [];
    const creds = presentedCredentials(input.value);
    items = [];
    for (const c of creds) {
      const d = bytesToHex(await digestOf(c));
      items.push({ cred: c, receipt: receipts.find((r) => r && r.digest === d) || receipt });
    }
    if (items.length === 0) {
      throw new ProblemError("the presentation has no credentials");
    }
  } else {
    items = [{ cred: input.cred, receipt }];
  }
  const registry = $("registry").value.trim();
  const sections = [];
  const verdicts = [];
  for (const [i, it] of items.entries()) {
    if (!it.receipt) {
      throw new ProblemError("the chain-only check needs the credential's receipt");
    }
    const res = await verifyOnChain(it.cred, it.receipt, url, registry);
    res.checks.push(localValidity(it.cred));
    const ok = res.checks.every((c) => c.ok);
    verdicts.push(ok);
    const f = res.facts;
    const anchor = f.member ? { root: f.root, blockNumber: f.blockNumber, blockTime: f.blockTime, confirmations: f.confirmations, member: f.member, memberName: f.memberName, memberDid: f.memberDid, memberActive: f.memberActive } : null;
    const scope = items.length > 1 ? "credential-" + i : "credential";
    const parts = [
      el("div", { class: "cards" }, achievementCard(it.cred.value), issuerCard(it.cred.value, anchor)),
      checksCard(res.checks, scope, "Checks against the chain"),
      anchorCard(anchor, it.receipt),
    ];
    sections.push(items.length > 1 ? el("section", { class: "presented", "data-credential": i, "data-verdict": ok ? "verified" : "failed", "aria-label": "Credential " + (i + 1) }, el("h3", {}, "Credential " + (i + 1)), parts) : parts);
  }
  const verified = verdicts.every(Boolean);
  const note = verified
    ? "The credential is included in a batch its issuer's member anchored on chain, checked by this browser and the RPC alone."
    : "A check against the chain failed; see which below.";
  const registries = [...new Set(items.map((it) => it.receipt && it.receipt.contract).filter(Boolean))];
  return [
    verdictBanner(verified ? "verified" : "failed", note),
    el(
      "p",
      { class: "help", id: "rpc-scope" },
      "This check needs no credanchor node. It covers the digest, the Merkle path, the anchor, the member and the validity period; the issuer's signature, the holder's proof and the revocation status are checked by a node.",
    ),
    registry
      ? null
      : el(
          "p",
          { class: "help", id: "rpc-registry-note" },
          "Membership was read from the registry the receipt names (" + registries.join(", ") + "). Enter your consortium's registry above to check that it is the one.",
        ),
    sections,
  ];
}

function readInput() {
  const t = $("credential").value.trim();
  if (!t) {
    throw new ProblemError("paste or drop a credential or a presentation first");
  }
  switch (classify(t)) {
    case "presentation":
      return { kind: "presentation", value: JSON.parse(t) };
    case "receipt":
      throw new ProblemError("that is a receipt: put it in the Receipt box, and the credential in the Credential box");
  }
  try {
    return { kind: "credential", cred: credentialFrom(t) };
  } catch (err) {
    throw new ProblemError(err.message);
  }
}

let run = 0;

async function onSubmit(ev) {
  ev.preventDefault();
  const result = $("result");
  const body = $("result-body");
  const button = $("verify");
  button.disabled = true;
  result.dataset.state = "busy";
  result.setAttribute("aria-busy", "true");
  $("busy").textContent = "Verifying…";
  let content;
  try {
    const input = readInput();
    const receipt = readReceipt();
    const mode = document.querySelector('input[name="mode"]:checked').value;
    if (mode === "rpc") {
      content = await verifyWithChain(input, receipt);
    } else if (input.kind === "presentation") {
      content = await verifyPresentationWithNode(input.value);
    } else {
      content = await verifyCredentialWithNode(input.cred, receipt);
    }
  } catch (err) {
    const msg = err instanceof ProblemError ? err.message : "the verification could not run: " + (err && err.message ? err.message : String(err));
    content = [verdictBanner("error", msg)];
  }
  body.replaceChildren(...content.flat(Infinity).filter(Boolean));
  const verdict = body.querySelector("#verdict");
  result.dataset.verdict = verdict ? verdict.dataset.verdict : "error";
  result.dataset.run = String(++run);
  result.dataset.state = "done";
  result.removeAttribute("aria-busy");
  $("busy").textContent = "Done: " + (verdict ? verdict.querySelector(".verdict-head").textContent : "");
  button.disabled = false;
  result.focus();
}

// ---- input handling ----

function syncMode() {
  const rpc = $("mode-rpc").checked;
  $("rpc-options").hidden = !rpc;
  const help = $("receipt-help");
  help.textContent = rpc
    ? "The credanchor receipt that came with the credential: the chain-only check needs it (a presentation may carry its receipts)."
    : "The credanchor receipt that came with the credential. Without it this node uses its own record.";
  syncPresentation();
}

function syncPresentation() {
  const isVP = classify($("credential").value) === "presentation";
  $("presentation-options").hidden = !isVP || $("mode-rpc").checked;
}

async function readFiles(files) {
  for (const f of files) {
    const t = await f.text();
    if (classify(t) === "receipt") {
      $("receipt").value = t.trim();
    } else {
      $("credential").value = t.trim();
    }
  }
  syncPresentation();
}

async function getChallenge() {
  const btn = $("get-challenge");
  btn.disabled = true;
  try {
    const { status, data } = await api("/challenges");
    if (status !== 201 || !data || !data.challenge) {
      throw new Error(problemMessage(status, data));
    }
    $("challenge").value = data.challenge;
    $("busy").textContent = "Challenge " + data.challenge + " until " + data.expires;
  } catch (err) {
    $("busy").textContent = "No challenge: " + err.message;
  } finally {
    btn.disabled = false;
  }
}

function init() {
  const form = $("verify-form");
  form.addEventListener("submit", onSubmit);
  form.addEventListener("reset", () => {
    setTimeout(() => {
      syncMode();
      $("result-body").replaceChildren();
      $("result").dataset.state = "idle";
    });
  });
  for (const r of document.querySelectorAll('input[name="mode"]')) {
    r.addEventListener("change", syncMode);
  }
  $("credential").addEventListener("input", syncPresentation);
  $("files").addEventListener("change", (ev) => readFiles(ev.target.files));
  $("get-challenge").addEventListener("click", getChallenge);
  const drop = $("drop");
  for (const target of [document.body]) {
    target.addEventListener("dragover", (ev) => {
      ev.preventDefault();
      drop.classList.add("dragging");
    });
    target.addEventListener("dragleave", () => drop.classList.remove("dragging"));
    target.addEventListener("drop", (ev) => {
      ev.preventDefault();
      drop.classList.remove("dragging");
      if (ev.dataTransfer && ev.dataTransfer.files.length > 0) {
        readFiles(ev.dataTransfer.files);
      } else if (ev.dataTransfer) {
        const t = ev.dataTransfer.getData("text/plain");
        if (t) {
          $(classify(t) === "receipt" ? "receipt" : "credential").value = t.trim();
          syncPresentation();
        }
      }
    });
  }
  try {
    $("rpc-url").value = localStorage.getItem(RPC_KEY) || "";
    $("registry").value = localStorage.getItem(REGISTRY_KEY) || "";
  } catch {
    // Storage may be off.
  }
  syncMode();
  document.documentElement.dataset.ready = "true";
}

init();
