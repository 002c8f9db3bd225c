//go:build !linux

package testnet

import "syscall"

// gethProcAttr has no parent-death signal outside Linux; Close stops geth.
func gethProcAttr() *syscall.SysProcAttr { return nil }
