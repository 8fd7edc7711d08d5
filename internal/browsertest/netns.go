package browsertest

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Isolated returns a launcher that runs Chromium in a network
// namespace of its own, with a relay from its 127.0.0.1:port to the
// host's, for each port. On a machine where other tests add and remove
// Docker networks, Chromium on the host's network takes each change as a
// reason to drop its connections (ERR_NETWORK_CHANGED), streams included;
// in a namespace of its own it sees no change. It needs root and `ip`;
// without them it returns exe as it is.
func Isolated(t testing.TB, exe string, ports ...int) string {
	t.Helper()
	ip, err := exec.LookPath("ip")
	if err != nil || os.Geteuid() != 0 {
		t.Logf("Chromium runs on the host's network (needs root and ip for a namespace of its own)")
		return exe
	}
	name := "shbrowser" + strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10)
	if out, err := exec.Command(ip, "netns", "add", name).CombinedOutput(); err != nil {
		t.Logf("no network namespace for Chromium (%v: %s): it runs on the host's network", err, out)
		return exe
	}
	t.Cleanup(func() { exec.Command(ip, "netns", "delete", name).Run() })
	if out, err := exec.Command(ip, "netns", "exec", name, ip, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("loopback in the namespace: %v: %s", err, out)
	}
	for _, port := range ports {
		ln := listenIn(t, name, port)
		t.Cleanup(func() { ln.Close() })
		go relay(ln, "127.0.0.1:"+strconv.Itoa(port))
	}
	script := filepath.Join(t.TempDir(), "chromium-netns")
	body := fmt.Sprintf("#!/bin/sh\nexec %s netns exec %s %s \"$@\"\n", ip, name, exe)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// listenIn listens on 127.0.0.1:port inside the named network namespace:
// the socket is created on a thread moved into it (the thread is not used
// for anything else, and ends with its goroutine).
func listenIn(t testing.TB, netns string, port int) net.Listener {
	t.Helper()
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread goes away with this goroutine
		f, err := os.Open("/var/run/netns/" + netns)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: err}
			return
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		ch <- result{ln, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listen in the browser's namespace: %v", r.err)
	}
	return r.ln
}

// relay copies every connection accepted on ln to and from addr.
func relay(ln net.Listener, addr string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer up.Close()
			go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
			io.Copy(c, up)
		}()
	}
}
