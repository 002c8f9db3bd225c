package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/contracts/registry"
)

// catContract groups the flags that shape a new registry in --help.
const catContract = "CONTRACT"

// DefaultContractTimeout bounds a contract command: every RPC call and the
// wait for its transaction to be mined.
const DefaultContractTimeout = 2 * time.Minute

var (
	contractRegistryFlag = &cli.StringFlag{
		Name:     "registry",
		Usage:    "address of the consortium's registry contract",
		Required: true,
		Category: catChain,
		EnvVars:  envVars("registry"),
	}
	contractTimeoutFlag = &cli.DurationFlag{
		Name:     "timeout",
		Usage:    "how long to wait for the chain: RPC calls and the transaction being mined",
		Value:    DefaultContractTimeout,
		Category: catChain,
		EnvVars:  envVars("timeout"),
	}
	contractJSONFlag = &cli.BoolFlag{
		Name:     "json",
		Usage:    "print the result as JSON",
		Category: catMisc,
	}
	// deployMembersFlag is a GenericFlag, not a StringSliceFlag, because
	// urfave/cli splits slice values at commas and a member is itself
	// ADDR,DID,NAME. It has no environment variable: one variable cannot
	// repeat a flag.
	deployMembersFlag = &cli.GenericFlag{
		Name:     "member",
		Usage:    "a founding member as ADDR,DID,NAME; repeat for each member (NAME may contain commas)",
		Value:    &memberList{},
		Category: catContract,
	}
	deployThresholdFlag = &cli.Uint64Flag{
		Name:     "threshold",
		Usage:    "member approvals a governance proposal needs, 1..number of members",
		Required: true,
		Category: catContract,
	}
)

// readFlags are the flags of the commands that only read the registry.
func readFlags() []cli.Flag {
	return []cli.Flag{rpcFlag, contractRegistryFlag, contractTimeoutFlag, contractJSONFlag}
}

// writeFlags are the flags of the commands that send a transaction.
func writeFlags() []cli.Flag {
	return append(readFlags(), signerFlags...)
}

var contractCommand = &cli.Command{
	Name:  "contract",
	Usage: "deploy the consortium registry and govern it: members, thresholds, node keys",
	Description: `The registry has no owner: the member set and the approval threshold change
only through proposals that enough members approve, and each member authorises,
rotates and revokes its own node keys. Every command checks a transaction with
eth_estimateGas before it sends it, so a change the registry would refuse is
reported with the registry's reason (for example NotMember(0x…)) and costs
nothing.`,
	Subcommands: []*cli.Command{contractDeployCommand, contractMemberCommand, contractKeyCommand},
}

var contractDeployCommand = &cli.Command{
	Name:  "deploy",
	Usage: "deploy a registry with its founding members and threshold",
	Description: `Deploys the consortium registry, signed by --key (or --keystore), with one
--member ADDR,DID,NAME per founding institution and the number of approvals a
governance proposal needs. The signer pays for the deployment; it need not be a
member. Prints the contract address, or with --json the address, the
transaction and the chain id.`,
	Flags:  append([]cli.Flag{rpcFlag, deployMembersFlag, deployThresholdFlag, contractTimeoutFlag, contractJSONFlag}, signerFlags...),
	Action: deployRegistry,
}

var contractMemberCommand = &cli.Command{
	Name:  "member",
	Usage: "list the consortium's members and propose and approve changes to them",
	Description: `A proposal (add a member, remove one, change the threshold) counts its
proposer's approval at once and executes when the approvals reach the
threshold. Any change executed makes every older open proposal stale.`,
	Subcommands: []*cli.Command{
		{
			Name:  "list",
			Usage: "list the active members and the governance counters",
			Description: `Prints each active member's address, DID, name and number of active node
keys, and the threshold, member count, membership epoch and proposal count.
Needs no key.`,
			Flags:  readFlags(),
			Action: listMembers,
		},
		{
			Name:      "propose-add",
			Usage:     "propose to add an institution",
			ArgsUsage: "ADDR DID NAME",
			Description: `Proposes adding the institution whose governance address is ADDR, with its
DID and display name. Signed by a member's key; prints the proposal id, its
approvals and whether it executed at once (threshold 1).`,
			Flags:  writeFlags(),
			Action: proposeAdd,
		},
		{
			Name:      "propose-remove",
			Usage:     "propose to remove a member",
			ArgsUsage: "ADDR",
			Description: `Proposes removing the member ADDR; its node keys stop anchoring when the
proposal executes, while what they anchored stays valid. The threshold must
already fit the smaller member set. Prints the proposal id, its approvals and
whether it executed.`,
			Flags:  writeFlags(),
			Action: proposeRemove,
		},
		{
			Name:      "propose-threshold",
			Usage:     "propose a new approval threshold",
			ArgsUsage: "N",
			Description: `Proposes that governance proposals need N approvals, 1..member count. Prints
the proposal id, its approvals and whether it executed.`,
			Flags:  writeFlags(),
			Action: proposeThreshold,
		},
		{
			Name:      "approve",
			Usage:     "approve an open proposal",
			ArgsUsage: "ID",
			Description: `Adds the signing member's approval to proposal ID, which executes it when the
approvals reach the threshold. Prints the approvals and whether it executed.`,
			Flags:  writeFlags(),
			Action: approveProposal,
		},
		{
			Name:      "show",
			Usage:     "show a proposal",
			ArgsUsage: "ID",
			Description: `Prints what proposal ID does, its epoch, its approvals, which current members
approved it, and whether it is open, executed or stale. Needs no key.`,
			Flags:  readFlags(),
			Action: showProposal,
		},
	},
}

var contractKeyCommand = &cli.Command{
	Name:  "key",
	Usage: "authorise, rotate and revoke the node keys that anchor for a member",
	Description: `A node key anchors batches for the member that authorised it. A key is
authorised once, ever: a revoked key, or a key of a removed member, can never
anchor again. What a key anchored before its revocation stays valid.`,
	Subcommands: []*cli.Command{
		{
			Name:      "authorize",
			Usage:     "let a node key anchor for the signing member",
			ArgsUsage: "ADDR",
			Description: `Authorises the node key ADDR to anchor for the member whose key signs (--key
or --keystore). Refused for a key that was ever authorised before.`,
			Flags:  writeFlags(),
			Action: authorizeKey,
		},
		{
			Name:      "revoke",
			Usage:     "stop one of the signing member's node keys from anchoring",
			ArgsUsage: "ADDR",
			Description: `Revokes the node key ADDR of the member whose key signs. Its earlier anchors
stay valid; the key can never be authorised again.`,
			Flags:  writeFlags(),
			Action: revokeKey,
		},
		{
			Name:      "rotate",
			Usage:     "replace a node key with another in one transaction",
			ArgsUsage: "OLD NEW",
			Description: `Revokes OLD and authorises NEW for the member whose key signs, in one
transaction, so the member's node is never left without a key that anchors.`,
			Flags:  writeFlags(),
			Action: rotateKey,
		},
		{
			Name:      "show",
			Usage:     "show which member a key anchors for, and its state",
			ArgsUsage: "ADDR",
			Description: `Prints the key's state (none, active, revoked or dropped, the last for a key
of a removed member) and the member it belongs to. Needs no key.`,
			Flags:  readFlags(),
			Action: showKey,
		},
	},
}

// registryBinding packs calls to and unpacks results, events and errors of
// the registry contract.
var registryBinding = registry.NewRegistry()

// memberList collects repeated --member ADDR,DID,NAME flags.
type memberList []anchor.Member

// Set parses one --member value. The name is last and split off only twice,
// so a name may contain commas; a DID cannot.
func (l *memberList) Set(s string) error {
	parts := strings.SplitN(s, ",", 3)
	if len(parts) != 3 {
		return fmt.Errorf("%q: want ADDR,DID,NAME", s)
	}
	addr, did, name := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])
	if !common.IsHexAddress(addr) {
		return fmt.Errorf("%q: %q is not an address", s, addr)
	}
	if did == "" {
		return fmt.Errorf("%q: empty DID", s)
	}
	*l = append(*l, anchor.Member{Address: common.HexToAddress(addr), DID: did, Name: name})
	return nil
}

// String shows the members as they were given, for --help defaults.
func (l *memberList) String() string {
	var parts []string
	for _, m := range *l {
		parts = append(parts, m.Address.Hex()+","+m.DID+","+m.Name)
	}
	return strings.Join(parts, " ")
}

// revertError is a call or transaction that the registry refused, with the
// reason it gave, decoded from the revert data.
type revertError struct {
	// Reason is the decoded custom error, as NotMember(0xabc…).
	Reason string
	// Value is the binding's error struct, such as *registry.RegistryNotMember,
	// or nil when the revert data is not one of the registry's errors.
	Value any
}

func (e *revertError) Error() string { return "refused by the registry: " + e.Reason }

// asRevert returns the registry's reason when err is an RPC error that reports
// a revert, and false for any other error (the node down, no funds, …).
func asRevert(err error) (*revertError, bool) {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return nil, false
	}
	raw, ok := revertData(de.ErrorData())
	if !ok {
		// go-ethereum sends data only when the revert has some; a bare
		// revert() is "execution reverted" with none.
		if strings.Contains(de.Error(), "execution reverted") {
			return &revertError{Reason: "reverted without a reason"}, true
		}
		return nil, false
	}
	return decodeRevert(raw), true
}

// revertData turns an RPC error's data into bytes. go-ethereum sends it as a
// hex string; other nodes may too, with or without the 0x.
func revertData(data any) ([]byte, bool) {
	s, ok := data.(string)
	if !ok {
		return nil, false
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(raw) == 0 {
		return nil, false
	}
	return raw, true
}

// decodeRevert names the registry error in raw revert data: the binding's
// custom errors first, then Solidity's Error(string) and Panic(uint256).
func decodeRevert(raw []byte) *revertError {
	// The binding's UnpackError slices raw[:4] without a check and so
	// panics on shorter data.
	if len(raw) < 4 {
		return &revertError{Reason: fmt.Sprintf("reverted with %d bytes of data 0x%x, too short for an error selector", len(raw), raw)}
	}
	if v, err := registryBinding.UnpackError(raw); err == nil {
		return &revertError{Reason: formatCustomError(v), Value: v}
	}
	for name, e := range registryBinding.GetABI().Errors {
		if bytes.Equal(e.ID[:4], raw[:4]) {
			// A known selector with arguments that do not decode.
			return &revertError{Reason: fmt.Sprintf("%s with malformed arguments 0x%x", name, raw[4:])}
		}
	}
	if reason, err := abi.UnpackRevert(raw); err == nil {
		return &revertError{Reason: strconv.Quote(reason)}
	}
	return &revertError{Reason: fmt.Sprintf("unknown error 0x%x (%d bytes of data)", raw[:4], len(raw))}
}

// formatCustomError prints a binding error struct as Solidity would write the
// error: RegistryNotMember{Account} becomes NotMember(0xAbC…).
func formatCustomError(v any) string {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return fmt.Sprint(v)
	}
	args := make([]string, rv.NumField())
	for i := range args {
		switch f := rv.Field(i).Interface().(type) {
		case common.Address:
			args[i] = f.Hex()
		case [32]byte:
			args[i] = common.Hash(f).Hex()
		case string:
			args[i] = strconv.Quote(f)
		default:
			args[i] = fmt.Sprint(f)
		}
	}
	return strings.TrimPrefix(rv.Type().Name(), "Registry") + "(" + strings.Join(args, ", ") + ")"
}

// chainError turns a failed RPC into the registry's reason when it was a
// revert, and wraps it otherwise.
func chainError(op string, err error) error {
	if re, ok := asRevert(err); ok {
		return re
	}
	return fmt.Errorf("%s: %w", op, err)
}

// dialChain connects to --rpc.
func dialChain(ctx context.Context, c *cli.Context) (*ethclient.Client, error) {
	url := c.String(rpcFlag.Name)
	client, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	return client, nil
}

// registrySession is a chain connection and the registry on it.
type registrySession struct {
	client *ethclient.Client
	reg    common.Address
}

// openRegistry dials --rpc and checks that --registry holds a contract. An
// address without code answers every view with nothing and accepts every
// transaction without doing anything, which would otherwise surface much
// later as puzzling decode errors.
func openRegistry(ctx context.Context, c *cli.Context) (*registrySession, error) {
	s := c.String(contractRegistryFlag.Name)
	if !common.IsHexAddress(s) {
		return nil, fmt.Errorf("--%s: %q is not an address", contractRegistryFlag.Name, s)
	}
	reg := common.HexToAddress(s)
	client, err := dialChain(ctx, c)
	if err != nil {
		return nil, err
	}
	code, err := client.CodeAt(ctx, reg, nil)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("read code of %s: %w", reg.Hex(), err)
	}
	if len(code) == 0 {
		client.Close()
		return nil, fmt.Errorf("--%s: no contract at %s on this chain", contractRegistryFlag.Name, reg.Hex())
	}
	return &registrySession{client: client, reg: reg}, nil
}

func (s *registrySession) Close() { s.client.Close() }

// withRegistry runs f with the registry of --registry on --rpc open, bounded
// by --timeout.
func withRegistry(c *cli.Context, f func(ctx context.Context, s *registrySession) error) error {
	ctx, cancel := withTimeout(c)
	defer cancel()
	s, err := openRegistry(ctx, c)
	if err != nil {
		return err
	}
	defer s.Close()
	return f(ctx, s)
}

// view runs a view of the registry and decodes its result with unpack. name
// is the call as a decoding error shows it, such as keyOf(0xAbC…). It is a
// function, not a method, because methods cannot have type parameters.
func view[T any](ctx context.Context, s *registrySession, data []byte, unpack func([]byte) (T, error), name string) (T, error) {
	var zero T
	out, err := s.client.CallContract(ctx, ethereum.CallMsg{To: &s.reg, Data: data}, nil)
	if err != nil {
		return zero, chainError("call registry", err)
	}
	v, err := unpack(out)
	if err != nil {
		return zero, fmt.Errorf("decode %s: %w", name, err)
	}
	return v, nil
}

// precheck estimates the gas of a transaction before it is sent: a
// transaction the registry would refuse then fails with the registry's
// reason, costing nothing. anchor.Transact's own estimate keeps only the
// error's text, which loses the revert data.
func precheck(ctx context.Context, client *ethclient.Client, from common.Address, to *common.Address, data []byte) error {
	if _, err := client.EstimateGas(ctx, ethereum.CallMsg{From: from, To: to, Data: data}); err != nil {
		return chainError("estimate gas", err)
	}
	return nil
}

// transact sends a registry call signed by key, after a precheck, and waits
// until it is mined.
func (s *registrySession) transact(ctx context.Context, key *ecdsa.PrivateKey, data []byte) (*types.Receipt, error) {
	from := crypto.PubkeyToAddress(key.PublicKey)
	if err := precheck(ctx, s.client, from, &s.reg, data); err != nil {
		return nil, err
	}
	rcpt, err := anchor.Transact(ctx, s.client, s.reg, key, data)
	if err != nil {
		// Another transaction may have changed the registry between the
		// check and the send (a second member approving the same proposal):
		// ask again, to give its reason rather than "transaction failed".
		var re *revertError
		if perr := precheck(ctx, s.client, from, &s.reg, data); errors.As(perr, &re) {
			return nil, re
		}
		return nil, err
	}
	return rcpt, nil
}

func (s *registrySession) governance(ctx context.Context) (registry.GovernanceOutput, error) {
	return view(ctx, s, registryBinding.PackGovernance(), registryBinding.UnpackGovernance, "governance()")
}

func (s *registrySession) members(ctx context.Context) ([]common.Address, error) {
	return view(ctx, s, registryBinding.PackMembers(), registryBinding.UnpackMembers, "members()")
}

func (s *registrySession) memberInfo(ctx context.Context, member common.Address) (registry.MemberInfoOutput, error) {
	return view(ctx, s, registryBinding.PackMemberInfo(member), registryBinding.UnpackMemberInfo, fmt.Sprintf("memberInfo(%s)", member.Hex()))
}

func (s *registrySession) keysOf(ctx context.Context, member common.Address) ([]common.Address, error) {
	return view(ctx, s, registryBinding.PackKeysOf(member), registryBinding.UnpackKeysOf, fmt.Sprintf("keysOf(%s)", member.Hex()))
}

func (s *registrySession) keyOf(ctx context.Context, key common.Address) (registry.KeyOfOutput, error) {
	return view(ctx, s, registryBinding.PackKeyOf(key), registryBinding.UnpackKeyOf, fmt.Sprintf("keyOf(%s)", key.Hex()))
}

func (s *registrySession) proposal(ctx context.Context, id uint64) (registry.ProposalOutput, error) {
	return view(ctx, s, registryBinding.PackProposal(id), registryBinding.UnpackProposal, fmt.Sprintf("proposal(%d)", id))
}

func (s *registrySession) hasApproved(ctx context.Context, id uint64, member common.Address) (bool, error) {
	return view(ctx, s, registryBinding.PackHasApproved(id, member), registryBinding.UnpackHasApproved, fmt.Sprintf("hasApproved(%d, %s)", id, member.Hex()))
}

// emit prints v as indented JSON with --json, and calls text otherwise.
func emit(c *cli.Context, v any, text func(w io.Writer)) error {
	if c.Bool(contractJSONFlag.Name) {
		return printJSON(c.App.Writer, v)
	}
	text(c.App.Writer)
	return nil
}

// printJSON writes v as JSON indented by two spaces: the --json output of
// the contract and verify commands.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// wantArgs checks the number of positional arguments. urfave/cli stops
// reading flags at the first argument, so a flag after one is named in the
// message.
func wantArgs(c *cli.Context, usage string, n int) error {
	if c.NArg() == n {
		return nil
	}
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "-") {
			return fmt.Errorf("want %s, got %d arguments: flags such as %s go before the arguments", usage, c.NArg(), a)
		}
	}
	return fmt.Errorf("want %s, got %d arguments", usage, c.NArg())
}

// parseAddress parses a positional address argument.
func parseAddress(what, s string) (common.Address, error) {
	if !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("%s: %q is not an address", what, s)
	}
	return common.HexToAddress(s), nil
}

// parseUint parses a positional number argument.
func parseUint(what, s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", what, s)
	}
	return n, nil
}

// oneArg checks that the command has one positional argument, named name in
// errors, and parses it with parse (parseAddress, parseUint).
func oneArg[T any](c *cli.Context, name string, parse func(what, s string) (T, error)) (T, error) {
	if err := wantArgs(c, name, 1); err != nil {
		var zero T
		return zero, err
	}
	return parse(name, c.Args().First())
}

// withTimeout bounds a command by --timeout.
func withTimeout(c *cli.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Context, c.Duration(contractTimeoutFlag.Name))
}

// sentTxRecorder remembers the transactions sent through it, so that the
// hash of the deployment, which anchor.DeployRegistry does not return, can
// be printed.
type sentTxRecorder struct {
	*ethclient.Client
	sent []common.Hash
}

func (r *sentTxRecorder) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	if err := r.Client.SendTransaction(ctx, tx); err != nil {
		return err
	}
	r.sent = append(r.sent, tx.Hash())
	return nil
}

// deployResult is what `contract deploy --json` prints.
type deployResult struct {
	Contract common.Address `json:"contract"`
	TxHash   *common.Hash   `json:"txHash,omitempty"`
	ChainID  uint64         `json:"chainId"`
}

func deployRegistry(c *cli.Context) error {
	if err := wantArgs(c, "no arguments", 0); err != nil {
		return err
	}
	members := *c.Generic(deployMembersFlag.Name).(*memberList)
	if len(members) == 0 {
		return fmt.Errorf("give at least one --%s ADDR,DID,NAME", deployMembersFlag.Name)
	}
	threshold := c.Uint64(deployThresholdFlag.Name)
	key, err := loadSigningKey(c)
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	client, err := dialChain(ctx, c)
	if err != nil {
		return err
	}
	defer client.Close()
	chainID, err := client.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("chain id: %w", err)
	}

	// The constructor checks the members and the threshold; estimating the
	// deployment gives its reason (ThresholdOutOfRange, AlreadyMember, …)
	// before anything is paid.
	addrs := make([]common.Address, len(members))
	dids := make([]string, len(members))
	names := make([]string, len(members))
	for i, m := range members {
		addrs[i], dids[i], names[i] = m.Address, m.DID, m.Name
	}
	initCode := append(common.FromHex(registry.RegistryMetaData.Bin), registryBinding.PackConstructor(addrs, dids, names, threshold)...)
	if err := precheck(ctx, client, crypto.PubkeyToAddress(key.PublicKey), nil, initCode); err != nil {
		return err
	}

	rec := &sentTxRecorder{Client: client}
	reg, err := anchor.DeployRegistry(ctx, rec, key, members, threshold)
	if err != nil {
		return err
	}
	res := deployResult{Contract: reg, ChainID: chainID.Uint64()}
	if n := len(rec.sent); n > 0 {
		res.TxHash = &rec.sent[n-1]
	}
	slog.InfoContext(ctx, "registry deployed", slog.String("contract", reg.Hex()), slog.Any("tx", res.TxHash), slog.Uint64("chainId", res.ChainID))
	return emit(c, res, func(w io.Writer) { fmt.Fprintln(w, reg.Hex()) })
}

// memberRow is one member in `member list`.
type memberRow struct {
	Address common.Address   `json:"address"`
	DID     string           `json:"did"`
	Name    string           `json:"name"`
	Active  bool             `json:"active"`
	Keys    []common.Address `json:"keys"`
}

// memberListing is what `member list --json` prints.
type memberListing struct {
	Threshold     uint64      `json:"threshold"`
	MemberCount   uint64      `json:"memberCount"`
	Epoch         uint64      `json:"epoch"`
	ProposalCount uint64      `json:"proposalCount"`
	Members       []memberRow `json:"members"`
}

func listMembers(c *cli.Context) error {
	if err := wantArgs(c, "no arguments", 0); err != nil {
		return err
	}
	return withRegistry(c, func(ctx context.Context, s *registrySession) error {
		g, err := s.governance(ctx)
		if err != nil {
			return err
		}
		addrs, err := s.members(ctx)
		if err != nil {
			return err
		}
		l := memberListing{Threshold: g.Threshold, MemberCount: g.MemberCount, Epoch: g.Epoch, ProposalCount: g.ProposalCount, Members: []memberRow{}}
		for _, a := range addrs {
			info, err := s.memberInfo(ctx, a)
			if err != nil {
				return err
			}
			keys, err := s.keysOf(ctx, a)
			if err != nil {
				return err
			}
			l.Members = append(l.Members, memberRow{Address: a, DID: info.Did, Name: info.Name, Active: info.Active, Keys: keys})
		}
		return emit(c, l, func(w io.Writer) {
			fmt.Fprintf(w, "threshold %d of %d members, epoch %d, %d proposals\n\n", l.Threshold, l.MemberCount, l.Epoch, l.ProposalCount)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ADDRESS\tDID\tNAME\tACTIVE\tKEYS")
			for _, m := range l.Members {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", m.Address.Hex(), m.DID, m.Name, yesNo(m.Active), len(m.Keys))
			}
			tw.Flush()
		})
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// proposalOutcome is what a proposal or approval transaction did, read from
// the events in its receipt.
type proposalOutcome struct {
	Proposal  uint64      `json:"proposal"`
	Approvals uint32      `json:"approvals"`
	Executed  bool        `json:"executed"`
	TxHash    common.Hash `json:"txHash"`
}

// outcome reads a proposal's id (from ProposalCreated, when id is 0), its
// approvals and its execution from the registry's logs in rcpt.
func (s *registrySession) outcome(rcpt *types.Receipt, id uint64) (*proposalOutcome, error) {
	out := &proposalOutcome{Proposal: id, TxHash: rcpt.TxHash}
	for _, l := range rcpt.Logs {
		if l.Address != s.reg {
			continue
		}
		if ev, err := registryBinding.UnpackProposalCreatedEvent(l); err == nil {
			if out.Proposal == 0 {
				out.Proposal = ev.Id
			}
		} else if !errors.Is(err, bind.ErrEventSignatureMismatch) {
			return nil, fmt.Errorf("decode ProposalCreated: %w", err)
		}
		if ev, err := registryBinding.UnpackProposalApprovedEvent(l); err == nil {
			if ev.Id == out.Proposal {
				out.Approvals = ev.Approvals
			}
		} else if !errors.Is(err, bind.ErrEventSignatureMismatch) {
			return nil, fmt.Errorf("decode ProposalApproved: %w", err)
		}
		if ev, err := registryBinding.UnpackProposalExecutedEvent(l); err == nil {
			if ev.Id == out.Proposal {
				out.Executed = true
			}
		} else if !errors.Is(err, bind.ErrEventSignatureMismatch) {
			return nil, fmt.Errorf("decode ProposalExecuted: %w", err)
		}
	}
	if out.Proposal == 0 {
		return nil, fmt.Errorf("transaction %s has no ProposalCreated event of registry %s", rcpt.TxHash.Hex(), s.reg.Hex())
	}
	if out.Approvals == 0 {
		return nil, fmt.Errorf("transaction %s has no ProposalApproved event for proposal %d", rcpt.TxHash.Hex(), out.Proposal)
	}
	return out, nil
}

// sendRegistryTx signs data with --key (or --keystore), sends it to the
// registry and waits until it is mined, within --timeout; report then prints
// what the transaction did, from its receipt.
func sendRegistryTx(c *cli.Context, data []byte, report func(s *registrySession, signer common.Address, rcpt *types.Receipt) error) error {
	key, err := loadSigningKey(c)
	if err != nil {
		return err
	}
	return withRegistry(c, func(ctx context.Context, s *registrySession) error {
		rcpt, err := s.transact(ctx, key, data)
		if err != nil {
			return err
		}
		return report(s, crypto.PubkeyToAddress(key.PublicKey), rcpt)
	})
}

// sendProposalTx signs and sends data, a proposal (id 0) or an approval of
// proposal id, and prints what it did.
func sendProposalTx(c *cli.Context, data []byte, id uint64) error {
	return sendRegistryTx(c, data, func(s *registrySession, _ common.Address, rcpt *types.Receipt) error {
		o, err := s.outcome(rcpt, id)
		if err != nil {
			return err
		}
		return emit(c, o, func(w io.Writer) {
			fmt.Fprintf(w, "proposal:   %d\napprovals:  %d\nexecuted:   %t\ntx:         %s\n", o.Proposal, o.Approvals, o.Executed, o.TxHash.Hex())
		})
	})
}

func proposeAdd(c *cli.Context) error {
	if err := wantArgs(c, "ADDR DID NAME", 3); err != nil {
		return err
	}
	member, err := parseAddress("ADDR", c.Args().Get(0))
	if err != nil {
		return err
	}
	return sendProposalTx(c, registryBinding.PackProposeAddMember(member, c.Args().Get(1), c.Args().Get(2)), 0)
}

func proposeRemove(c *cli.Context) error {
	member, err := oneArg(c, "ADDR", parseAddress)
	if err != nil {
		return err
	}
	return sendProposalTx(c, registryBinding.PackProposeRemoveMember(member), 0)
}

func proposeThreshold(c *cli.Context) error {
	n, err := oneArg(c, "N", parseUint)
	if err != nil {
		return err
	}
	return sendProposalTx(c, registryBinding.PackProposeThreshold(n), 0)
}

func approveProposal(c *cli.Context) error {
	id, err := oneArg(c, "ID", parseUint)
	if err != nil {
		return err
	}
	if id == 0 {
		// The outcome reader takes 0 to mean "a new proposal"; the registry
		// numbers proposals from 1 and would refuse 0 anyway.
		return fmt.Errorf("ID: proposals are numbered from 1")
	}
	return sendProposalTx(c, registryBinding.PackApprove(id), id)
}

// actionNames are the registry's Action enum values, in order.
var actionNames = []string{"add-member", "remove-member", "set-threshold"}

// enumName names value v of an enum, or says it is out of range: a newer
// registry may have more values than this command knows.
func enumName(names []string, v uint8) string {
	if int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("unknown(%d)", v)
}

// proposalView is what `member show --json` prints.
type proposalView struct {
	ID         uint64           `json:"id"`
	Action     string           `json:"action"`
	Member     *common.Address  `json:"member,omitempty"`
	DID        string           `json:"did,omitempty"`
	Name       string           `json:"name,omitempty"`
	Threshold  uint64           `json:"threshold,omitempty"`
	Epoch      uint64           `json:"epoch"`
	Approvals  uint32           `json:"approvals"`
	Executed   bool             `json:"executed"`
	State      string           `json:"state"`
	ApprovedBy []common.Address `json:"approvedBy"`
}

func showProposal(c *cli.Context) error {
	id, err := oneArg(c, "ID", parseUint)
	if err != nil {
		return err
	}
	return withRegistry(c, func(ctx context.Context, s *registrySession) error {
		p, err := s.proposal(ctx, id)
		if err != nil {
			return err
		}
		g, err := s.governance(ctx)
		if err != nil {
			return err
		}
		v := proposalView{
			ID: id, Action: enumName(actionNames, p.Action), DID: p.Did, Name: p.Name, Threshold: p.Threshold,
			Epoch: p.Epoch, Approvals: p.Approvals, Executed: p.Executed, ApprovedBy: []common.Address{},
		}
		if p.Member != (common.Address{}) {
			v.Member = &p.Member
		}
		switch {
		case p.Executed:
			v.State = "executed"
		case p.Epoch != g.Epoch:
			v.State = "stale"
		default:
			v.State = "open"
		}
		// The registry keeps approvals per address, not as a list; asking about
		// each current member finds every approval that can still matter.
		members, err := s.members(ctx)
		if err != nil {
			return err
		}
		for _, m := range members {
			ok, err := s.hasApproved(ctx, id, m)
			if err != nil {
				return err
			}
			if ok {
				v.ApprovedBy = append(v.ApprovedBy, m)
			}
		}
		return emit(c, v, func(w io.Writer) {
			fmt.Fprintf(w, "proposal:     %d\naction:       %s\n", v.ID, v.Action)
			if v.Member != nil {
				fmt.Fprintf(w, "member:       %s\n", v.Member.Hex())
			}
			if v.DID != "" {
				fmt.Fprintf(w, "did:          %s\nname:         %s\n", v.DID, v.Name)
			}
			if v.Threshold != 0 {
				fmt.Fprintf(w, "threshold:    %d\n", v.Threshold)
			}
			fmt.Fprintf(w, "epoch:        %d (registry at %d)\napprovals:    %d (threshold %d)\nstate:        %s\n", v.Epoch, g.Epoch, v.Approvals, g.Threshold, v.State)
			for _, a := range v.ApprovedBy {
				fmt.Fprintf(w, "approved by:  %s\n", a.Hex())
			}
		})
	})
}

// keyStateNames are the registry's KeyState enum values, in order.
var keyStateNames = []string{"none", "active", "revoked", "dropped"}

// keyChange is what `key authorize|revoke|rotate --json` prints.
type keyChange struct {
	Member  common.Address  `json:"member"`
	Revoked *common.Address `json:"revoked,omitempty"`
	Added   *common.Address `json:"authorized,omitempty"`
	TxHash  common.Hash     `json:"txHash"`
}

// sendKeyTx signs and sends a key change and prints it.
func sendKeyTx(c *cli.Context, data []byte, revoked, added *common.Address) error {
	return sendRegistryTx(c, data, func(_ *registrySession, signer common.Address, rcpt *types.Receipt) error {
		kc := keyChange{Member: signer, Revoked: revoked, Added: added, TxHash: rcpt.TxHash}
		return emit(c, kc, func(w io.Writer) {
			if kc.Revoked != nil {
				fmt.Fprintf(w, "revoked:     %s\n", kc.Revoked.Hex())
			}
			if kc.Added != nil {
				fmt.Fprintf(w, "authorized:  %s\n", kc.Added.Hex())
			}
			fmt.Fprintf(w, "member:      %s\ntx:          %s\n", kc.Member.Hex(), kc.TxHash.Hex())
		})
	})
}

func authorizeKey(c *cli.Context) error {
	k, err := oneArg(c, "ADDR", parseAddress)
	if err != nil {
		return err
	}
	return sendKeyTx(c, registryBinding.PackAuthorizeKey(k), nil, &k)
}

func revokeKey(c *cli.Context) error {
	k, err := oneArg(c, "ADDR", parseAddress)
	if err != nil {
		return err
	}
	return sendKeyTx(c, registryBinding.PackRevokeKey(k), &k, nil)
}

func rotateKey(c *cli.Context) error {
	if err := wantArgs(c, "OLD NEW", 2); err != nil {
		return err
	}
	old, err := parseAddress("OLD", c.Args().Get(0))
	if err != nil {
		return err
	}
	nk, err := parseAddress("NEW", c.Args().Get(1))
	if err != nil {
		return err
	}
	return sendKeyTx(c, registryBinding.PackRotateKey(old, nk), &old, &nk)
}

// keyView is what `key show --json` prints.
type keyView struct {
	Key        common.Address  `json:"key"`
	State      string          `json:"state"`
	Member     *common.Address `json:"member,omitempty"`
	MemberName string          `json:"memberName,omitempty"`
}

func showKey(c *cli.Context) error {
	k, err := oneArg(c, "ADDR", parseAddress)
	if err != nil {
		return err
	}
	return withRegistry(c, func(ctx context.Context, s *registrySession) error {
		ko, err := s.keyOf(ctx, k)
		if err != nil {
			return err
		}
		v := keyView{Key: k, State: enumName(keyStateNames, ko.State)}
		if ko.Member != (common.Address{}) {
			v.Member = &ko.Member
			info, err := s.memberInfo(ctx, ko.Member)
			if err != nil {
				return err
			}
			v.MemberName = info.Name
		}
		return emit(c, v, func(w io.Writer) {
			fmt.Fprintf(w, "key:     %s\nstate:   %s\n", v.Key.Hex(), v.State)
			if v.Member != nil {
				fmt.Fprintf(w, "member:  %s (%s)\n", v.Member.Hex(), v.MemberName)
			}
		})
	})
}

// Compile-time check that the recorder still satisfies what DeployRegistry
// needs, should anchor.Backend grow.
var _ anchor.Backend = (*sentTxRecorder)(nil)
