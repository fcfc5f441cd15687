// Package ext stands in for Traefik's dynamic-configuration extension module
// (github.com/traefik/traefik/dynamic/ext). Upstream it is a nested module of Traefik's repository,
// so the Traefik module archive leaves it out, and the module proxy does not serve it on its own.
// Upstream declares two extension points, both empty structs inlined into the dynamic
// configuration; the build uses this package in their place.
package ext

// HTTP extends the dynamic HTTP configuration.
type HTTP struct{}

// Router extends a dynamic HTTP router.
type Router struct{}
