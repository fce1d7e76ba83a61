package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Environment variables of the server-kept conversations (docs/contracts.md).
const (
	EnvConversationStore     = "PORTICO_CONVERSATION_STORE"
	EnvConversationRetention = "PORTICO_CONVERSATION_RETENTION_DAYS"
	EnvAttachmentStore       = "PORTICO_ATTACHMENT_STORE"
)

// Conversation table layout, as services/conversation's DynamoDB store uses it: an owner's
// conversations and messages under one partition, and the number attribute (epoch seconds)
// DynamoDB's time to live deletes expired items by.
const (
	ConversationPartitionKey = "pk"
	ConversationSortKey      = "sk"
	ConversationTTLAttribute = "expiresAt"
)

// conversationActions are exactly the calls services/conversation/dynamostore makes for the
// inference function: reads of an owner's partition, conditional writes, and the batched
// deletes of a conversation's messages. No Scan: every read the function makes names one
// owner's partition.
var conversationActions = []string{
	"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
	"dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
}

// conversationCountActions are the admin function's: the store's CountOwners scans for the
// per-owner count items and queries each owner's partition for its counts; nothing else.
var conversationCountActions = []string{"dynamodb:Scan", "dynamodb:Query"}

// AttachmentExpirationDays is how long after it was written the attachment bucket keeps an
// object, for a conversation retention of days (0: no expiration). The conversation store
// writes a message to expire 1.5 retention periods after it is written
// (services/conversation/dynamostore), and an attachment belongs to one message: the object
// lives as long as the message it was written with, rounded up to whole days.
func AttachmentExpirationDays(days int) int {
	return (3*days + 1) / 2
}

// attachmentObjectActions and attachmentBucketActions are the S3 calls of
// services/attachment/s3store: objects are written, read and deleted (DeleteObjects is
// authorised by s3:DeleteObject), and a conversation's prefix is listed to delete it.
var (
	attachmentObjectActions = []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
	attachmentBucketActions = []string{"s3:ListBucket"}
)

// newConversationTable creates the table of server-kept conversations: on demand,
// point-in-time recovery, the customer-managed key, time to live on expiresAt (the
// retention), deletion protection when the environment is protected.
func (e *env) newConversationTable(scope constructs.Construct) awsdynamodb.Table {
	return awsdynamodb.NewTable(scope, jsii.String("ConversationTable"),
		e.itemTableProps("conversations", ConversationPartitionKey, ConversationSortKey, ConversationTTLAttribute))
}

// conversationTableARN is the exact ARN of the conversation table (no index, no wildcard).
func (e *env) conversationTableARN() string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", e.cfg.Region, e.cfg.Account, e.cfg.Name("conversations"))
}

// attachmentBucketName is the attachment bucket's name: fixed, so the services' grants are
// plain ARNs, and unique across AWS by the account and region in it.
func (e *env) attachmentBucketName() string {
	return fmt.Sprintf("%s-%s-%s", e.cfg.Name("attachments"), e.cfg.Account, e.cfg.Region)
}

// attachmentBucketARNs are the exact ARNs of the attachment bucket and of its objects.
func (e *env) attachmentBucketARNs() (bucket, objects string) {
	bucket = "arn:aws:s3:::" + e.attachmentBucketName()
	return bucket, bucket + "/*"
}

// newAttachmentBucket creates the bucket of conversation attachments: SSE-KMS with the
// environment's key (an S3 Bucket Key, so S3 asks KMS once per key period rather than per
// object), public access blocked, TLS only, ACLs disabled, server access logs to the
// environment's log bucket. Versioning stays off, so deleting a conversation deletes its
// attachments at once (no noncurrent copy outlives the delete); with a retention, objects
// expire AttachmentExpirationDays after they were written, with the message they belong to.
func (e *env) newAttachmentBucket(scope constructs.Construct, logs awss3.IBucket) awss3.Bucket {
	rules := []*awss3.LifecycleRule{{
		Id:                                  jsii.String("AbortIncompleteUploads"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
	}}
	if d := e.cfg.Conversations.RetentionDays; d > 0 {
		rules = append(rules, &awss3.LifecycleRule{
			Id:         jsii.String("Retention"),
			Expiration: awscdk.Duration_Days(jsii.Number(AttachmentExpirationDays(d))),
		})
	}
	return awss3.NewBucket(scope, jsii.String("AttachmentBucket"), &awss3.BucketProps{
		BucketName:             jsii.String(e.attachmentBucketName()),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          e.key,
		BucketKeyEnabled:       jsii.Bool(true),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		Versioned:              jsii.Bool(false),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("s3/attachments/"),
		LifecycleRules:         &rules,
		RemovalPolicy:          e.removal(),
	})
}
