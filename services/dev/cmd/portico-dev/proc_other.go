//go:build !linux && unix

package main

import "syscall"

// childAttrs puts a child in its own process group, so that a terminal's Ctrl-C reaches only
// the launcher, which then stops the children in order.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
