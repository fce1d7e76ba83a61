package main

import "syscall"

// childAttrs puts a child in its own process group, so that a terminal's Ctrl-C reaches only
// the launcher (which then stops the children in order), and asks the kernel to send it
// SIGTERM should the launcher die without stopping it.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
