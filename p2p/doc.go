// Package p2p is the consortium's libp2p layer: a host per node (Noise over
// TCP and QUIC, a persistent Ed25519 identity, bootstrap peers only: no
// DHT, relay, mDNS or NAT port mapping), a member record exchange that
// binds each peer ID to a member's node key in the registry contract,
// GossipSub announcements of anchored batches and status lists with peer
// scoring, and request/response protocols for sync (a batch's digests, a
// status list credential) and for verification queries.
//
// Only peers verified as member nodes get consortium traffic: the gossip,
// sync and query handlers refuse others, and non-members are disconnected
// and refused for a while. Everything a peer sends is bounded in size and
// time; a peer that sends malformed or false data loses score and, below a
// threshold, is disconnected.
//
// The node supplies what this package cannot know through small
// interfaces in Config: Membership (the registry), Validator (the chain),
// Handler (what to do with an accepted announcement), Provider (the store,
// for sync) and Querier (the HTTP API's answers). The package imports no
// node code.
//
// Wire formats:
//   - /credanchor/member/1.0.0: the dialler reads one frame holding the
//     other side's MemberRecord (see MemberRecord for its encoding).
//   - GossipSub topic Topic(chainID, registry): JSON envelopes
//     {"v":1,"record":<base64 MemberRecord>,"batch"|"statusList":{...}},
//     at most MaxAnnouncementSize bytes, signed by the author (StrictSign).
//   - /credanchor/sync/1.0.0 and /credanchor/query/1.0.0: see
//     SyncProtocol and QueryProtocol. Frames are a uvarint length and that
//     many bytes, checked against a bound before anything is allocated.
package p2p
