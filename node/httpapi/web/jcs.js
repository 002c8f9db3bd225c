// JSON Canonicalization Scheme (RFC 8785) of a parsed JSON value: object
// members sorted by the UTF-16 code units of their names, numbers in the
// ECMAScript serialisation, strings escaped as JSON.stringify escapes them,
// no whitespace. It is what the node hashes (SHA-256) as a credential's
// digest.

/**
 * canonicalize returns the JCS text of a value parsed by JSON.parse.
 * It throws on what JSON cannot carry (a non-finite number, undefined, a
 * function) rather than hash something else.
 * @param {unknown} v
 * @returns {string}
 */
export function canonicalize(v) {
  if (v === null) {
    return "null";
  }
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "number":
      if (!Number.isFinite(v)) {
        throw new Error("JCS: a number must be finite");
      }
      // JSON.stringify is the ECMAScript Number serialisation RFC 8785
      // requires (and gives "0" for -0).
      return JSON.stringify(v);
    case "string":
      return JSON.stringify(v);
    case "object":
      if (Array.isArray(v)) {
        return "[" + v.map(canonicalize).join(",") + "]";
      }
      {
        // The default sort compares UTF-16 code units, as RFC 8785 asks.
        const keys = Object.keys(v).sort();
        return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalize(v[k])).join(",") + "}";
      }
    default:
      throw new Error("JCS: a " + typeof v + " is not JSON");
  }
}

const encoder = new TextEncoder();

/**
 * canonicalBytes is the UTF-8 encoding of the JCS text of a JSON text.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function canonicalBytes(text) {
  return encoder.encode(canonicalize(JSON.parse(text)));
}
