// Package anchor puts Merkle batch roots on an EVM chain and proves credentials
// against them: the Anchorer sends registry anchor transactions and follows
// them to confirmation through reorgs and restarts, and receipts carry the
// RFC 9162 inclusion proof a learner keeps and verifies with one contract call.
package anchor
