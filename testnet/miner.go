package testnet

import (
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/event"
)

// miner seals a block as soon as the pool holds an executable transaction.
// It does what catalyst.RegisterSimulatedBeaconAPIs does for a period of 0,
// but subscribes to the pool in Start, so that node.Start returns only once
// no transaction can arrive unseen: the API subscribes from a goroutine, and
// a transaction sent before that goroutine runs was never mined.
type miner struct {
	eth    *eth.Ethereum
	beacon *catalyst.SimulatedBeacon
	sub    event.Subscription
	newTxs chan core.NewTxsEvent
	done   chan struct{}
	exited chan struct{}
}

func newMiner(backend *eth.Ethereum, beacon *catalyst.SimulatedBeacon) *miner {
	return &miner{eth: backend, beacon: beacon, newTxs: make(chan core.NewTxsEvent, 16), done: make(chan struct{}), exited: make(chan struct{})}
}

// Start implements node.Lifecycle.
func (m *miner) Start() error {
	m.sub = m.eth.TxPool().SubscribeTransactions(m.newTxs, true)
	go m.loop()
	return nil
}

// Stop implements node.Lifecycle; the node stops it before the beacon and
// the eth service, which were registered earlier.
func (m *miner) Stop() error {
	close(m.done)
	<-m.exited
	m.sub.Unsubscribe()
	return nil
}

func (m *miner) loop() {
	defer close(m.exited)
	// Transactions a reopened pool holds from before are mined too.
	m.sealPending()
	for {
		select {
		case <-m.done:
			return
		case <-m.sub.Err():
			return
		case <-m.newTxs:
			m.sealPending()
		}
	}
}

// sealPending seals blocks until no executable transaction is left. The
// pool refuses tips below the miner's minimum (see ethConfig), so every
// executable transaction is one the miner takes and this ends.
func (m *miner) sealPending() {
	for {
		m.eth.TxPool().Sync()
		if executable, _ := m.eth.TxPool().Stats(); executable == 0 {
			return
		}
		select {
		case <-m.done:
			return
		default:
		}
		m.beacon.Commit()
	}
}
