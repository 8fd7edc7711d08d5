package appctl

import (
	"os"
	"syscall"
)

// failpointEnv names the environment variable that arms a failpoint. The
// crash-recovery tests set it to kill the real process (SIGKILL, as a power
// cut or `kill -9` would) at an exact step of an operation; without it the
// check is one string comparison.
const failpointEnv = "STACKHUB_FAILPOINT"

var armedFailpoint = os.Getenv(failpointEnv)

// failpoint kills the process when name is the armed failpoint.
func failpoint(name string) {
	if armedFailpoint == name {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is delivered asynchronously
	}
}
