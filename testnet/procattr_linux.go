package testnet

import "syscall"

// gethProcAttr makes the kernel kill geth when the test process dies, so a
// test binary killed by its timeout leaves no geth running.
func gethProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
