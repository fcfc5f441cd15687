// cert-manager's controllers for the local environment, run outside the cluster with a kubeconfig.
//
// The upstream controller binary lives in a module the Go module proxy does not serve; the library
// module is served, and each controller and issuer in it registers itself when its package is
// imported. This main runs the ones a cluster without ACME needs: issuer status, the certificate
// lifecycle, approval, the SelfSigned and CA issuers, and the Ingress and Gateway shims that turn
// `cert-manager.io/cluster-issuer` annotations into Certificates.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	gatewayshim "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/gateways"
	ingressshim "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	// The issuer implementations the issuers controllers set up (they register themselves).
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	resourceNamespace := flag.String("cluster-resource-namespace", "cert-manager",
		"namespace that holds the Secrets ClusterIssuers refer to (a CA ClusterIssuer's key pair)")
	gatewayAPI := flag.Bool("enable-gateway-api", false, "also issue certificates for Gateway listeners (needs the Gateway API CRDs)")
	workers := flag.Int("workers", 2, "workers per controller")
	logf.InitLogs()
	flag.Parse()

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	if err := run(ctx, *kubeconfig, *resourceNamespace, *gatewayAPI, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "cert-manager-controller:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, resourceNamespace string, gatewayAPI bool, workers int) error {
	names := []string{
		issuers.ControllerName,
		clusterissuers.ControllerName,
		trigger.ControllerName,
		keymanager.ControllerName,
		requestmanager.ControllerName,
		issuing.ControllerName,
		readiness.ControllerName,
		revisionmanager.ControllerName,
		approver.ControllerName,
		crselfsigned.CRControllerName,
		crca.CRControllerName,
		ingressshim.ControllerName,
	}
	if gatewayAPI {
		names = append(names, gatewayshim.ControllerName)
	}

	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		IssuerOptions:      controllerpkg.IssuerOptions{ClusterResourceNamespace: resourceNamespace},
		IngressShimOptions: controllerpkg.IngressShimOptions{DefaultIssuerKind: "Issuer", DefaultIssuerGroup: "cert-manager.io"},
		CertificateOptions: controllerpkg.CertificateOptions{
			// A failed request is retried sooner than upstream's hour: this environment is rebuilt often.
			CertificateRequestMinimumBackoffDuration: 30 * time.Second,
			CertificateRequestMaximumBackoffDuration: 5 * time.Minute,
		},
		ConfigOptions: controllerpkg.ConfigOptions{EnableGatewayAPI: gatewayAPI},
	})
	if err != nil {
		return err
	}

	known := controllerpkg.Known()
	controllers := make(map[string]controllerpkg.Interface, len(names))
	for _, name := range names {
		construct, ok := known[name]
		if !ok {
			return fmt.Errorf("controller %q is not registered by the cert-manager library", name)
		}
		if controllers[name], err = construct(factory); err != nil {
			return fmt.Errorf("setting up controller %q: %w", name, err)
		}
	}

	// The controllers asked the shared informer factories for what they watch; start them now.
	shared, err := factory.Build()
	if err != nil {
		return err
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	shared.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	if gatewayAPI {
		shared.GWShared.Start(ctx.Done())
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(controllers))
	for name, controller := range controllers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := controller.Run(workers, ctx); err != nil {
				errs <- fmt.Errorf("controller %q: %w", name, err)
			}
		}()
	}
	fmt.Fprintf(os.Stderr, "cert-manager-controller: running %d controllers\n", len(controllers))
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	wg.Wait()
	return nil
}
