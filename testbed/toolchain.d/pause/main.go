// The sandbox ("pause") container of the local node: it holds a pod's namespaces open and does
// nothing else until the kubelet stops the pod. Built here because no registry with the upstream
// pause image can be reached.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
