package proxy

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	"github.com/portico-dev/portico/gen/go/portico/apikey/v1/apikeyv1connect"
	"github.com/portico-dev/portico/gen/go/portico/conversation/v1/conversationv1connect"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
)

// Services are the services the browser may call through the BFF.
var Services = []string{
	identityv1connect.IdentityServiceName,
	inferencev1connect.InferenceServiceName,
	adminv1connect.AdminServiceName,
	apikeyv1connect.ApiKeyServiceName,
	conversationv1connect.ConversationServiceName,
}

// Allowlist is a set of procedures ("/package.Service/Method").
type Allowlist map[string]bool

// AllowlistFor derives the procedures of services from their generated descriptors (the
// generated packages register them when imported).
func AllowlistFor(services ...string) (Allowlist, error) {
	allow := Allowlist{}
	for _, name := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil, fmt.Errorf("proxy: service %s: %w", name, err)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("proxy: %s is not a service", name)
		}
		methods := sd.Methods()
		for i := range methods.Len() {
			allow["/"+name+"/"+string(methods.Get(i).Name())] = true
		}
	}
	return allow, nil
}

// DefaultAllowlist returns the procedures of Services.
func DefaultAllowlist() (Allowlist, error) { return AllowlistFor(Services...) }
