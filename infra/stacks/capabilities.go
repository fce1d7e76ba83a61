package stacks

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Statement ids of the grants below, named so the tests and a reviewer find them.
const (
	sidConversations     = "ReadWriteConversations"
	sidConversationCount = "CountConversations"
	sidAttachmentObjects = "ReadWriteAttachments"
	sidAttachmentList    = "ListAttachments"
	sidKeysReadWrite     = "ReadWriteApiKeys"
	sidKeysManage        = "ManageApiKeys"
	sidKeysLookup        = "LookUpApiKeys"
	sidKeysKey           = "ApiKeysKey"
	sidKeysKeyRead       = "ApiKeysKeyRead"
	sidAlertEvents       = "PutAlertEvents"
	sidRetrieveKnowledge = "RetrieveKnowledgeBases"
)

// EnvAccountID is the AWS account the services run in (docs/contracts.md): only the
// catalog's knowledge bases in this account and region are offered and called.
const EnvAccountID = "PORTICO_AWS_ACCOUNT_ID"

// keyReadKMS are the key actions for reading a table encrypted with the environment's key.
var keyReadKMS = []string{"kms:Decrypt", "kms:DescribeKey"}

// capabilities are the stores and the bus of the second wave (conversations and their
// attachments, personal API keys, governance alerts, knowledge bases): their resources, the
// services' environment, and exactly the grants each function needs.
type capabilities struct {
	conversations, keys constructs.IConstruct
	governance          *governance
}

// newCapabilities creates the conversation and key tables and the governance bus, and gives
// the functions their environment and grants:
//   - inference (which also serves ConversationService and the OpenAI-compatible /v1
//     endpoint): the conversation table and the attachment bucket, PutEvents on the
//     governance bus, Retrieve on the configured knowledge bases;
//   - apikey (ApiKeyService): the key table's management calls, and the API's public URL;
//   - identity, inference and admin: the key table's use (resolve a key, record its last use
//     and people's sign-ins: every services process records the sign-ins it sees);
//   - the authorizer: the key table read-only (GetItem).
//
// The attachment bucket itself needs the environment's log bucket and is made by
// newAttachmentBucket; its name is fixed, so the grants here are plain ARNs.
func (e *env) newCapabilities(scope constructs.Construct, svc *services, openAIBaseURL *string) *capabilities {
	c := constructs.NewConstruct(scope, jsii.String("Data"))
	cfg := e.cfg
	caps := &capabilities{
		conversations: e.newConversationTable(c),
		keys:          e.newKeyTable(c),
		governance:    e.newGovernance(scope),
	}
	allow := func(g *goFunction, sid string, actions []string, resources ...string) {
		g.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(sid),
			Actions:   jsii.Strings(actions...),
			Resources: jsii.Strings(resources...),
		}))
	}
	keyARN := *e.key.KeyArn()

	// Conversations and attachments: the function that mounts inference. Its role already
	// holds the environment key's Decrypt, DescribeKey, Encrypt and GenerateDataKey (the
	// ledger's), which DynamoDB and S3 (SSE-KMS) use on its behalf.
	inf := svc.inference
	inf.fn.AddEnvironment(jsii.String(EnvConversationStore), jsii.String("dynamodb:"+cfg.Name("conversations")), nil)
	inf.fn.AddEnvironment(jsii.String(EnvConversationRetention), jsii.String(strconv.Itoa(cfg.Conversations.RetentionDays)), nil)
	inf.fn.AddEnvironment(jsii.String(EnvAttachmentStore), jsii.String("s3:"+e.attachmentBucketName()), nil)
	allow(inf, sidConversations, conversationActions, e.conversationTableARN())
	// AdminService's counts of what each person keeps (ListConversationCounts): a Scan that
	// keeps only the per-owner count items, and a Query of one owner's partition; never
	// content (services/admin).
	svc.admin.fn.AddEnvironment(jsii.String(EnvConversationStore), jsii.String("dynamodb:"+cfg.Name("conversations")), nil)
	allow(svc.admin, sidConversationCount, conversationCountActions, e.conversationTableARN())
	bucket, objects := e.attachmentBucketARNs()
	allow(inf, sidAttachmentObjects, attachmentObjectActions, objects)
	allow(inf, sidAttachmentList, attachmentBucketActions, bucket)

	// Governance alerts: PutEvents on the governance bus only.
	inf.fn.AddEnvironment(jsii.String(EnvEventBus), jsii.String(cfg.Name("governance")), nil)
	allow(inf, sidAlertEvents, []string{"events:PutEvents"}, e.eventBusARN())

	// Knowledge bases: Retrieve on exactly the configured ones; none, no statement. The
	// services offer only the catalog's knowledge bases in their own account, which they are
	// told (unset, they use none).
	inf.fn.AddEnvironment(jsii.String(EnvAccountID), jsii.String(cfg.Account), nil)
	if arns := cfg.KnowledgeBaseARNs(); len(arns) > 0 {
		allow(inf, sidRetrieveKnowledge, []string{"bedrock:Retrieve"}, arns...)
	}

	// Personal API keys: the management calls for ApiKeyService's function, the use for
	// every other services function, a lookup for the authorizer; the key for each (inference
	// and admin have it through the ledger's statement).
	keyStore := jsii.String("dynamodb:" + cfg.Name("keys"))
	for _, g := range svc.all() {
		g.fn.AddEnvironment(jsii.String(EnvKeyStore), keyStore, nil)
		if g == svc.apikey {
			allow(g, sidKeysManage, keyManage, e.keyTableARN())
		} else {
			allow(g, sidKeysReadWrite, keyUse, e.keyTableARN())
		}
		if g != inf && g != svc.admin {
			allow(g, sidKeysKey, []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"}, keyARN)
		}
	}
	svc.apikey.fn.AddEnvironment(jsii.String(EnvPublicAPIURL), openAIBaseURL, nil)
	svc.authorizer.fn.AddEnvironment(jsii.String(EnvKeyStore), keyStore, nil)
	allow(svc.authorizer, sidKeysLookup, keyLookup, e.keyTableARN())
	allow(svc.authorizer, sidKeysKeyRead, keyReadKMS, keyARN)

	for _, g := range append(svc.all(), svc.authorizer) {
		g.fn.Node().AddDependency(caps.conversations, caps.keys)
	}
	return caps
}
